"""Instances: a different sentiment vocabulary, thesaurus and test set for every seed."""

import json
import random

POSITIVE = [
    "good",
    "great",
    "excellent",
    "superb",
    "wonderful",
    "pleasant",
    "lovely",
    "splendid",
    "delightful",
    "fantastic",
    "marvelous",
    "brilliant",
    "terrific",
    "charming",
    "fine",
    "nice",
]
NEGATIVE = [
    "bad",
    "awful",
    "terrible",
    "dreadful",
    "horrible",
    "poor",
    "lousy",
    "dismal",
    "atrocious",
    "abysmal",
    "mediocre",
    "shoddy",
    "miserable",
    "appalling",
    "nasty",
    "grim",
]
NOUNS = [
    "movie",
    "meal",
    "service",
    "hotel",
    "book",
    "phone",
    "concert",
    "trip",
    "course",
    "game",
    "show",
    "room",
    "flight",
    "album",
    "car",
    "play",
]
BASE_WORDS, SYNONYMS_EACH, TRAIN_NOUNS, TEST_NOUNS, TEST_ROWS = 2, 2, 5, 8, 300


def _lexicon(rng, pool):
    """Base words of one polarity and the synonyms of each (words the training set lacks)."""
    words = rng.sample(pool, BASE_WORDS * (1 + SYNONYMS_EACH))
    bases = words[:BASE_WORDS]
    rest = words[BASE_WORDS:]
    return {b: rest[i * SYNONYMS_EACH : (i + 1) * SYNONYMS_EACH] for i, b in enumerate(bases)}


def _lines(rows):
    return "".join(json.dumps(row) + "\n" for row in rows)


def generate(seed):
    """(workspace files, hidden files) of the instance of `seed`."""
    rng = random.Random(seed)
    thesaurus = {1: _lexicon(rng, POSITIVE), 0: _lexicon(rng, NEGATIVE)}
    nouns = rng.sample(NOUNS, TEST_NOUNS)
    train = [
        {"text": f"the {noun} was {base}", "label": label}
        for label in (1, 0)
        for base in thesaurus[label]
        for noun in nouns[:TRAIN_NOUNS]
    ]
    unseen = [
        (s, label) for label in (1, 0) for synonyms in thesaurus[label].values() for s in synonyms
    ]
    tests, labels = [], []
    for i in range(TEST_ROWS):
        synonym, label = rng.choice(unseen)
        tests.append({"id": i, "text": f"the {rng.choice(nouns)} was {synonym}"})
        labels.append(label)
    tsv = "".join(
        f"{base}\t{','.join(synonyms)}\n"
        for label in (1, 0)
        for base, synonyms in thesaurus[label].items()
    )
    workspace = {
        "data/train.jsonl": _lines(train),
        "data/thesaurus.tsv": tsv,
        "data/test_inputs.jsonl": _lines(tests),
    }
    return workspace, {"test_labels.json": json.dumps(labels)}
