"""Hidden grader: reads the outputs copy and the hidden labels, prints {"score", ...}."""

import json

from services.tasks.grader_kit import MAX_BYTES, arguments, report

OUT, HIDDEN = arguments()

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
