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
path = OUT / "report.json"
try:
    report_json = json.loads(path.read_text()[:MAX_BYTES]) if path.is_file() else {}
    report_json = dict(report_json)
except (ValueError, TypeError):
    report_json = {}
cells = correct = 0
for group, stats in expected.items():
    for name, value in stats.items():
        cells += 1
        got = report_json.get(group, {})
        got = got.get(name) if isinstance(got, dict) else None
        correct += isinstance(got, (int, float)) and abs(got - value) < 1e-6
report(round(correct / cells, 4), 0.0, 1.0, cells=cells, correct=correct)
