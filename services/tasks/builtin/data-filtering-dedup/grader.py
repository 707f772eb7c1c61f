"""Hidden grader: reads the outputs copy and the hidden labels, prints {"score", ...}."""

import json

from services.tasks.grader_kit import arguments, read_json_lines, report

OUT, HIDDEN = arguments()

keep = set(json.loads((HIDDEN / "keep_ids.json").read_text()))
path = OUT / "filtered.jsonl"
kept = (
    {r.get("id") for r in read_json_lines(path) if isinstance(r, dict)} if path.is_file() else set()
)
hits = len(kept & keep)
precision = hits / len(kept) if kept else 0.0
recall = hits / len(keep)
f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
# The reference keeps every distinct record and the 20 one-word near-duplicates of
# family.py's mix (160 + 20 of 180 kept): its F1 is 2 * 160 / (2 * 160 + 20).
report(round(f1, 4), 0.0, 0.9412, precision=round(precision, 4), recall=round(recall, 4))
