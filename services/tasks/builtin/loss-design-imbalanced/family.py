"""Instances: a different hidden linear rule and noisy sample of it for every seed.

Six standard-normal features; an example is positive when its score under a random rule, plus
noise, lands in the top 5%. Train and test come from the same distribution.
"""

import json
import math
import random

FEATURES, TRAIN, TEST = 6, 2000, 1000
POSITIVE_RATE, NOISE = 0.05, 0.8


def _sample(rng, rule, threshold):
    x = [round(rng.gauss(0.0, 1.0), 3) for _ in range(FEATURES)]
    score = sum(w * xi for w, xi in zip(rule, x, strict=True)) + rng.gauss(0.0, NOISE)
    return x, int(score > threshold)


def generate(seed):
    """(workspace files, hidden files) of the instance of `seed`."""
    rng = random.Random(seed)
    rule = [rng.choice((-1, 1)) * rng.uniform(0.3, 1.0) for _ in range(FEATURES)]
    norm = math.sqrt(sum(w * w for w in rule))
    rule = [w / norm for w in rule]
    # The score is normal with variance 1 + NOISE²: its 95th percentile is 1.645 sd.
    threshold = 1.645 * math.sqrt(1.0 + NOISE**2)
    train = [_sample(rng, rule, threshold) for _ in range(TRAIN)]
    tests = [_sample(rng, rule, threshold) for _ in range(TEST)]
    workspace = {
        "data/train.jsonl": "".join(json.dumps({"x": x, "y": y}) + "\n" for x, y in train),
        "data/test_inputs.jsonl": "".join(
            json.dumps({"id": i, "x": x}) + "\n" for i, (x, _) in enumerate(tests)
        ),
    }
    return workspace, {"test_labels.json": json.dumps([y for _, y in tests])}
