"""Hidden grader: reads the outputs copy and the hidden labels, prints {"score", ...}."""

import json

from services.tasks.grader_kit import MAX_BYTES, arguments, report

OUT, HIDDEN = arguments()

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
