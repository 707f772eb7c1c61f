"""The JSON lines a latency benchmark prints: p50 and p99 against a baseline of the same run."""

from __future__ import annotations

import json
import statistics
from typing import Any

PERCENTILES = (("p50_ms", 49), ("p99_ms", 98))  # metric, index among the 99 cut points


def percentile_lines(
    bench: str, samples: list[float], baseline: list[float]
) -> list[dict[str, Any]]:
    """One line per percentile: the samples', the baseline's, and their ratio, in milliseconds."""
    cuts = statistics.quantiles(samples, n=100)
    base_cuts = statistics.quantiles(baseline, n=100)
    return [
        {
            "bench": bench,
            "metric": metric,
            "value": round(cuts[index], 3),
            "baseline": round(base_cuts[index], 3),
            "ratio": round(cuts[index] / base_cuts[index], 3),
            "unit": "ms",
        }
        for metric, index in PERCENTILES
    ]


def print_lines(lines: list[dict[str, Any]]) -> None:
    """Each line as JSON on stdout, flushed at once."""
    for line in lines:
        print(json.dumps(line), flush=True)


def ratio_line(
    bench: str,
    metric: str,
    value: float,
    baseline: float,
    unit: str,
    digits: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """One result line: a value, the baseline measured beside it in the same run, their ratio,
    and any further fields (targets, sizes, what each side includes)."""
    return {
        "bench": bench,
        "metric": metric,
        "value": round(value, digits),
        "baseline": round(baseline, digits),
        "ratio": round(value / baseline, 3),
        "unit": unit,
        **extra,
    }
