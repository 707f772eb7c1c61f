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


keep = set(json.loads((HIDDEN / "keep_ids.json").read_text()))
path = OUT / "filtered.jsonl"
kept = (
    {r.get("id") for r in read_json_lines(path) if isinstance(r, dict)} if path.is_file() else set()
)
hits = len(kept & keep)
precision = hits / len(kept) if kept else 0.0
recall = hits / len(keep)
f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
report(round(f1, 4), 0.0, 0.9402, precision=round(precision, 4), recall=round(recall, 4))
