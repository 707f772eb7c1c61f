"""Instances: different groups, whitespace noise and measurements for every seed."""

import json
import random

NAMES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "kappa", "omega"]
GROUPS, ROWS = 4, 400


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _spellings(rng, name, noisy):
    """How the rows spell a group: clean, or with stray spaces around it."""
    if not noisy:
        return [name]
    return rng.sample([name, f" {name}", f"{name} ", f"  {name}"], rng.randint(1, 3))


def generate(seed):
    """(workspace files, hidden files) of the instance of `seed`."""
    rng = random.Random(seed)
    names = rng.sample(NAMES, GROUPS)
    # Half the groups are spelled with stray whitespace; one of those never cleanly.
    spellings = {n: _spellings(rng, n, i < GROUPS // 2) for i, n in enumerate(names)}
    spellings[names[0]] = [f" {names[0]}", f"{names[0]} "]
    centers = {n: rng.randint(15, 35) for n in names}
    rows, values = [], {n: [] for n in names}
    for _ in range(ROWS):
        name = rng.choice(names)
        value = max(0, min(60, centers[name] + rng.randint(-20, 20)))
        rows.append({"group": rng.choice(spellings[name]), "value": value})
        values[name].append(value)
    expected = {
        n: {"count": len(v), "mean": round(sum(v) / len(v), 3), "median": _median(v)}
        for n, v in values.items()
    }
    workspace = {"data/measurements.jsonl": "".join(json.dumps(row) + "\n" for row in rows)}
    return workspace, {"expected.json": json.dumps(expected)}
