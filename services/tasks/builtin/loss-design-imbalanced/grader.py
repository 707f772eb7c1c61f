"""Hidden grader: reads the outputs copy and the hidden labels, prints {"score", ...}."""

import json

from services.tasks.grader_kit import arguments, read_label_predictions, report

OUT, HIDDEN = arguments()

labels = json.loads((HIDDEN / "test_labels.json").read_text())
predictions = read_label_predictions(OUT / "predictions.json")
pos = [i for i, y in enumerate(labels) if y == 1]
neg = [i for i, y in enumerate(labels) if y == 0]
tpr = sum(predictions.get(i) == 1 for i in pos) / len(pos)
tnr = sum(predictions.get(i) == 0 for i in neg) / len(neg)
balanced = (tpr + tnr) / 2 if predictions else 0.5
report(round(balanced, 4), 0.5, 0.75, tpr=round(tpr, 4), tnr=round(tnr, 4))
