"""Best-of-n selection: keeps the candidate with the highest reward; writes choices.json."""

import json

from reward import reward

choices = {}
for line in open("data/candidates.jsonl"):
    item = json.loads(line)
    scores = [reward(item["prompt"], c) for c in item["candidates"]]
    choices[item["id"]] = scores.index(max(scores))
json.dump(choices, open("choices.json", "w"))
print(f"wrote choices.json for {len(choices)} prompts")
