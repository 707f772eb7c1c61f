"""Instances: different lists, wrong answers and positions of the right one for every seed."""

import json
import random

PROMPTS, CANDIDATES = 200, 4


def _wrong_answers(rng, ordered):
    """Plausible mistakes: an element dropped, two swapped, one invented, one changed."""
    dropped = ordered[:]
    del dropped[rng.randrange(len(dropped))]
    swapped = ordered[:]
    i = rng.randrange(len(swapped) - 1)
    swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
    invented = [*ordered, ordered[-1] + rng.randint(1, 20)]
    changed = ordered[:]
    changed[rng.randrange(len(changed))] += rng.choice((-1, 1)) * rng.randint(1, 9)
    mistakes = [m for m in (dropped, swapped, invented, changed) if m != ordered]
    return rng.sample(mistakes, CANDIDATES - 1)


def generate(seed):
    """(workspace files, hidden files) of the instance of `seed`."""
    rng = random.Random(seed)
    lines, answers = [], []
    for i in range(PROMPTS):
        # Distinct numbers, so a swap always makes a wrong answer.
        numbers = rng.sample(range(100), rng.randint(5, 9))
        ordered = sorted(numbers)
        candidates = [" ".join(map(str, c)) for c in _wrong_answers(rng, ordered)]
        answer = rng.randrange(CANDIDATES)
        candidates.insert(answer, " ".join(map(str, ordered)))
        prompt = f"Sort ascending: {numbers}"
        lines.append(json.dumps({"id": i, "prompt": prompt, "candidates": candidates}))
        answers.append(answer)
    workspace = {"data/candidates.jsonl": "".join(line + "\n" for line in lines)}
    return workspace, {"answers.json": json.dumps(answers)}
