"""Tiny models and hand-made datasets for the training tests (nothing is downloaded)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from bench._training_inputs import EOS, tiny_model_dir, write_dataset

VOCABULARY = 64
MASKED = -100


def tiny_base_model(directory: Path, seed: int = 0) -> Path:
    """A randomly initialised 2-layer Llama of the test vocabulary, saved to `directory`."""
    return tiny_model_dir(directory, vocabulary=VOCABULARY, seed=seed)


@dataclass(frozen=True)
class Turn:
    """A span of a sample: its tokens and whether they are trained."""

    tokens: list[int]
    trained: bool


def sample_row(sample_id: str, turns: list[Turn], upsample: int = 1) -> dict:
    """One `samples.parquet` row: input ids, and labels that are -100 off the trained turns."""
    input_ids = [token for turn in turns for token in turn.tokens]
    labels = [token if turn.trained else MASKED for turn in turns for token in turn.tokens]
    return {
        "sample_id": sample_id,
        "kind": "react",
        "trajectory_id": f"trajectory-{sample_id}",
        "upsample": upsample,
        "input_ids": input_ids,
        "labels": labels,
    }


def agent_turns(seed: int, masked_tail: list[int] | None = None) -> list[Turn]:
    """A prompt, a trained assistant turn that counts upwards (learnable), a tool result, and a
    masked assistant turn at the end (random unless given)."""
    rng = random.Random(seed)
    start = rng.randrange(2, 20)
    prompt = [rng.randrange(2, VOCABULARY) for _ in range(8)]
    tool = [rng.randrange(2, VOCABULARY) for _ in range(5)]
    tail = masked_tail or [rng.randrange(2, VOCABULARY) for _ in range(6)]
    return [
        Turn(prompt, trained=False),
        Turn([*range(start, start + 12), EOS], trained=True),
        Turn(tool, trained=False),
        Turn(tail, trained=False),
    ]


def agent_dataset(artifacts: Path, dataset_id: str, samples: int = 8) -> Path:
    """A dataset of `samples` agent samples (the first counted twice)."""
    rows = [
        sample_row(f"s{i}", agent_turns(i), upsample=2 if i == 0 else 1) for i in range(samples)
    ]
    return write_dataset(artifacts, dataset_id, rows)
