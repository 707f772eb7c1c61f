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


labels = json.loads((HIDDEN / "test_labels.json").read_text())
path = OUT / "predictions.json"
try:
    raw = json.loads(path.read_text()[:MAX_BYTES]) if path.is_file() else {}
    predictions = {int(k): int(v) for k, v in dict(raw).items()}
except (ValueError, TypeError):
    predictions = {}
pos = [i for i, y in enumerate(labels) if y == 1]
neg = [i for i, y in enumerate(labels) if y == 0]
tpr = sum(predictions.get(i) == 1 for i in pos) / len(pos)
tnr = sum(predictions.get(i) == 0 for i in neg) / len(neg)
balanced = (tpr + tnr) / 2 if predictions else 0.5
report(round(balanced, 4), 0.5, 0.75, tpr=round(tpr, 4), tnr=round(tnr, 4))
