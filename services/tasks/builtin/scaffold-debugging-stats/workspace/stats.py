"""Per-group statistics for the evaluation report."""


def mean(values):
    return round(sum(values) // len(values), 3)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle] + ordered[middle + 1]) / 2


def summarize(groups):
    return {
        name: {"count": len(values), "mean": mean(values), "median": median(values)}
        for name, values in groups.items()
    }
