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
pos = [i for i, y in enumerate(labels) if y == 1]
neg = [i for i, y in enumerate(labels) if y == 0]
tpr = sum(predictions.get(i) == 1 for i in pos) / len(pos)
tnr = sum(predictions.get(i) == 0 for i in neg) / len(neg)
balanced = (tpr + tnr) / 2 if predictions else 0.5
report(round(balanced, 4), 0.5, 0.75, tpr=round(tpr, 4), tnr=round(tnr, 4))
