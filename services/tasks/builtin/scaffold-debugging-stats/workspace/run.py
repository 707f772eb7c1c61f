"""Builds report.json from data/measurements.jsonl."""

import json

from stats import summarize

groups = {}
for line in open("data/measurements.jsonl"):
    row = json.loads(line)
    groups.setdefault(row["group"], []).append(row["value"])
json.dump(summarize(groups), open("report.json", "w"), indent=1)
print("wrote report.json")
