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


answers = json.loads((HIDDEN / "answers.json").read_text())
path = OUT / "choices.json"
try:
    raw = json.loads(path.read_text()[:MAX_BYTES]) if path.is_file() else {}
    choices = {int(k): int(v) for k, v in dict(raw).items()}
except (ValueError, TypeError):
    choices = {}
accuracy = sum(choices.get(i) == a for i, a in enumerate(answers)) / len(answers)
base = sum(a == 0 for a in answers) / len(answers)
report(round(accuracy, 4), base, 1.0, constant_reward_accuracy=base)
