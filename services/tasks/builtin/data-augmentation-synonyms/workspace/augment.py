"""Writes data/augmented.jsonl from data/train.jsonl: the piece to write."""

import json


def augment(example):
    """New labeled examples derived from one training example."""
    return []


with open("data/train.jsonl") as src, open("data/augmented.jsonl", "w") as out:
    for line in src:
        for new in augment(json.loads(line)):
            out.write(json.dumps(new) + "\n")
