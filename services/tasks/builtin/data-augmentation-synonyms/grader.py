"""Hidden grader: reads the outputs copy and the hidden labels, prints {"score", ...}."""

import json

from services.tasks.grader_kit import arguments, read_label_predictions, report

OUT, HIDDEN = arguments()

labels = json.loads((HIDDEN / "test_labels.json").read_text())
predictions = read_label_predictions(OUT / "predictions.json")
accuracy = sum(predictions.get(i) == y for i, y in enumerate(labels)) / len(labels)
report(round(accuracy, 4), 0.5, 1.0)
