"""Hidden grader: reads the outputs copy and the hidden labels, prints {"score", ...}."""

import json

from services.tasks.grader_kit import arguments, read_json_lines, report

OUT, HIDDEN = arguments()

expected = json.loads((HIDDEN / "expected.json").read_text())
path = OUT / "dataset.jsonl"
rows = read_json_lines(path) if path.is_file() else []
correct = 0
for want, row in zip(expected, rows):
    got = row.get("output") if isinstance(row, dict) else None
    correct += isinstance(got, dict) and got == want
report(round(correct / len(expected), 4), 0.0, 1.0, rows=len(rows), correct=correct)
