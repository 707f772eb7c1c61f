"""Instances: a different web corpus for every seed, with the same mix of noise.

Of 300 records, 160 are distinct sentences worth keeping; 70 repeat an earlier one up to case,
spacing or punctuation; 20 repeat one with a single word changed; 25 are character junk and
25 navigation fragments. Every duplicate comes after the record it repeats.
"""

import json
import random
import re

SUBJECTS = [
    "the optimizer",
    "our tokenizer",
    "a careful annotator",
    "this dataset",
    "the scheduler",
    "a small network",
    "the evaluation harness",
    "the language model",
    "every sampler",
    "the reward model",
    "a sparse encoder",
    "the data pipeline",
]
VERBS = [
    "tracks",
    "explains",
    "improves",
    "stores",
    "predicts",
    "smooths",
    "filters",
    "ranks",
    "measures",
    "compresses",
    "reweights",
    "caches",
]
OBJECTS = [
    "noisy labels",
    "rare tokens",
    "the validation loss",
    "gradient noise",
    "numeric precision",
    "every checkpoint",
    "long documents",
    "duplicate pages",
    "the learning rate",
    "attention weights",
    "batch statistics",
    "the calibration curve",
]
SETTINGS = [
    "under a fixed budget",
    "at inference time",
    "for long contexts",
    "during warmup",
    "across many shards",
    "on small machines",
    "after each epoch",
    "with mixed precision",
    "in the first layers",
    "between restarts",
]
FRAGMENTS = [
    "Home | About",
    "Next page",
    "Sign in",
    "Privacy Policy | Terms",
    "Back to top",
    "Share on Twitter",
    "Read more",
    "Contact us",
    "Skip to content",
    "Menu",
]
JUNK_CHARACTERS = "xkzqwvj0123456789%&*#$"
KEPT, REPEATS, NEAR_REPEATS, JUNK, FRAGMENT_RECORDS = 160, 70, 20, 25, 25


def _key(text):
    return " ".join(re.sub(r"[^a-z0-9 ]", "", text.lower()).split())


def _sentence(rng):
    first = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    second = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    text = f"{first} {rng.choice(SETTINGS)}, and {second}."
    return text[0].upper() + text[1:]


def _similar(a, b):
    words_a, words_b = set(a.split()), set(b.split())
    return len(words_a & words_b) / len(words_a | words_b) > 0.8


def _originals(rng):
    texts, keys = [], []
    while len(texts) < KEPT:
        text = _sentence(rng)
        key = _key(text)
        if not any(key == k or _similar(key, k) for k in keys):
            texts.append(text)
            keys.append(key)
    return texts


def _repeat(rng, text):
    """The same text up to case, spacing or punctuation."""
    kind = rng.randrange(4)
    if kind == 0:
        return text.upper() if rng.random() < 0.5 else text.lower()
    if kind == 1:
        return text.replace(" ", "  ")
    if kind == 2:
        return text.replace(",", "").rstrip(".")
    return text.rstrip(".") + "!!"


def _near_repeat(rng, text, taken):
    """The text with one word replaced by a word it lacks."""
    words = text.split(" ")
    vocabulary = sorted({w for phrase in SUBJECTS + OBJECTS + SETTINGS for w in phrase.split()})
    while True:
        i = rng.randrange(len(words))
        if not re.fullmatch(r"[a-z]+", words[i]):
            continue
        new = rng.choice([w for w in vocabulary if w not in words])
        candidate = " ".join([*words[:i], new, *words[i + 1 :]])
        if _key(candidate) not in taken:
            return candidate


def generate(seed):
    """(workspace files, hidden files) of the instance of `seed`."""
    rng = random.Random(seed)
    originals = _originals(rng)
    taken = {_key(t) for t in originals}
    # Each record gets a random place in [0, 1); a duplicate's place follows its original's.
    places = [(rng.random(), text, True) for text in originals]
    for _ in range(REPEATS):
        place, text, _ = rng.choice(places[:KEPT])
        places.append((rng.uniform(place, 1.0), _repeat(rng, text), False))
    for _ in range(NEAR_REPEATS):
        place, text, _ = rng.choice(places[:KEPT])
        near = _near_repeat(rng, text, taken)
        taken.add(_key(near))
        places.append((rng.uniform(place, 1.0), near, False))
    for _ in range(JUNK):
        junk = "".join(rng.choice(JUNK_CHARACTERS) for _ in range(rng.randint(40, 90)))
        places.append((rng.random(), junk, False))
    for _ in range(FRAGMENT_RECORDS):
        places.append((rng.random(), rng.choice(FRAGMENTS), False))
    places.sort(key=lambda entry: entry[0])
    corpus = "".join(
        json.dumps({"id": i, "text": text}) + "\n" for i, (_, text, _) in enumerate(places)
    )
    keep = [i for i, (_, _, kept) in enumerate(places) if kept]
    return {"data/corpus.jsonl": corpus}, {"keep_ids.json": json.dumps(keep)}
