"""A built dataset as the trainer reads it: token ids and labels, one row per counted sample."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from datasets import Dataset

MANIFEST_FILE = "manifest.json"
SAMPLES_FILE = "samples.parquet"
# What TRL's collator and the model read; the message-level columns stay on disk.
TRAINING_COLUMNS = ("input_ids", "labels")


class TrainingDataError(ValueError):
    """The dataset directory is missing, incomplete or not trainable."""


@dataclass(frozen=True)
class TrainingData:
    """The samples of one dataset, each repeated as often as its `upsample` says."""

    dataset_id: str
    samples: Dataset
    # To check the dataset against the model's vocabulary before training on it.
    largest_token_id: int


def read_training_data(directory: Path) -> TrainingData:
    """The dataset in `directory` (`manifest.json` and `samples.parquet`), upsampled."""
    manifest_path, samples_path = directory / MANIFEST_FILE, directory / SAMPLES_FILE
    if not manifest_path.is_file() or not samples_path.is_file():
        raise TrainingDataError(
            f"{directory} holds no built dataset ({MANIFEST_FILE} and {SAMPLES_FILE}); "
            "build one with `apollo dataset build` or check --dataset"
        )
    manifest = json.loads(manifest_path.read_text())
    dataset_id = manifest.get("dataset_id") or directory.name
    table = pq.read_table(samples_path, columns=[*TRAINING_COLUMNS, "upsample"])
    if table.num_rows == 0:
        raise TrainingDataError(f"dataset {dataset_id} has no samples to train on")
    repeats = table.column("upsample").to_pylist()
    counted = [row for row, times in enumerate(repeats) for _ in range(times)]
    # Repeated rows are copied, not index-mapped: every read of a mapped row costs a lookup.
    samples = Dataset(table.select(list(TRAINING_COLUMNS)).take(counted))
    largest = pc.max(pc.list_flatten(table.column("input_ids"))).as_py()
    return TrainingData(dataset_id=dataset_id, samples=samples, largest_token_id=largest)
