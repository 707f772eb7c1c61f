"""Hidden grader: reads the outputs copy and the hidden labels, prints {"score", ...}."""

import json
import sys
from pathlib import Path

OUT, HIDDEN = Path(sys.argv[1]), Path(sys.argv[2])
# Outputs are untrusted: read at most this much of any file.
MAX_BYTES = 20_000_000


def calibrated(metric, base, ref):
    """InnovatorBench calibration: the starting point scores 0, the reference 80."""
    return max(0.0, min(100.0, 80.0 * (metric - base) / (ref - base)))


def report(metric, base, ref, **details):
    print(
        json.dumps({"score": round(calibrated(metric, base, ref), 2), "metric": metric, **details})
    )


def read_json_lines(path):
    rows = []
    for line in path.read_text(errors="replace")[:MAX_BYTES].splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


expected = json.loads((HIDDEN / "expected.json").read_text())
path = OUT / "dataset.jsonl"
rows = read_json_lines(path) if path.is_file() else []
correct = 0
for want, row in zip(expected, rows):
    got = row.get("output") if isinstance(row, dict) else None
    correct += isinstance(got, dict) and got == want
report(round(correct / len(expected), 4), 0.0, 1.0, rows=len(rows), correct=correct)
