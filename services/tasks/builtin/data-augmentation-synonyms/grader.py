"""Hidden grader: reads the outputs copy and the hidden labels, prints {"score", ...}."""

import json

from services.sandbox.grader_kit import MAX_BYTES, arguments, report

OUT, HIDDEN = arguments()

labels = json.loads((HIDDEN / "test_labels.json").read_text())
path = OUT / "predictions.json"
try:
    raw = json.loads(path.read_text()[:MAX_BYTES]) if path.is_file() else {}
    predictions = {int(k): int(v) for k, v in dict(raw).items()}
except (ValueError, TypeError):
    predictions = {}
accuracy = sum(predictions.get(i) == y for i, y in enumerate(labels)) / len(labels)
report(round(accuracy, 4), 0.5, 1.0)
