"""A dataset on disk: `manifest.json` and `samples.parquet` under `<artifacts>/datasets/<id>/`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from services.trainer.settings import DATASETS_SUBDIR, dataset_dir

MANIFEST = "manifest.json"
SAMPLES = "samples.parquet"

_TOOL_CALL = pa.struct(
    [("call_id", pa.string()), ("name", pa.string()), ("arguments_json", pa.string())]
)
_MESSAGE = pa.struct(
    [
        ("role", pa.string()),
        ("content", pa.string()),
        ("tool_calls", pa.list_(_TOOL_CALL)),
        ("tool_call_id", pa.string()),
        ("train", pa.bool_()),
        ("mask_rules", pa.list_(pa.string())),
    ]
)
# One canonical row per sample; every export is derived from it.
SAMPLE_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("kind", pa.string()),
        ("trajectory_id", pa.string()),
        ("task_id", pa.string()),
        ("window_index", pa.int32()),
        ("messages", pa.list_(_MESSAGE)),
        ("tools", pa.string()),
        ("prompt_digest", pa.string()),
        ("upsample", pa.int32()),
        ("input_ids", pa.list_(pa.int32())),
        ("labels", pa.list_(pa.int32())),
    ]
)


class DatasetNotFound(FileNotFoundError):
    """No dataset of that id under the artifacts root."""


def dataset_exists(artifacts_root: Path, dataset_id: str) -> bool:
    """Whether the dataset was written completely (its manifest is written last)."""
    return (dataset_dir(artifacts_root, dataset_id) / MANIFEST).is_file()


def write_dataset(artifacts_root: Path, manifest: dict, rows: list[dict]) -> Path:
    """Write the samples, then the manifest, in a scratch folder renamed into place."""
    target = dataset_dir(artifacts_root, manifest["dataset_id"])
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        pq.write_table(pa.Table.from_pylist(rows, schema=SAMPLE_SCHEMA), scratch / SAMPLES)
        (scratch / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def read_manifest(artifacts_root: Path, dataset_id: str) -> dict:
    """The dataset's manifest; DatasetNotFound when there is none."""
    path = dataset_dir(artifacts_root, dataset_id) / MANIFEST
    if not path.is_file():
        raise DatasetNotFound(
            f"no dataset {dataset_id} under {artifacts_root}; list the built ones with "
            "`apollo dataset show` or build one with `apollo dataset build`"
        )
    return json.loads(path.read_text())


def load_dataset_rows(artifacts_root: Path, dataset_id: str) -> list[dict]:
    """The canonical rows of a dataset, one per sample (not yet upsampled)."""
    read_manifest(artifacts_root, dataset_id)
    path = dataset_dir(artifacts_root, dataset_id) / SAMPLES
    return pq.read_table(path).to_pylist()


def expand_upsampled(rows: Iterable[dict]) -> Iterator[dict]:
    """Each row repeated its `upsample` times, as training sees the dataset."""
    for row in rows:
        for _ in range(row["upsample"]):
            yield row


def built_dataset_ids(artifacts_root: Path) -> list[str]:
    """The ids of every completely written dataset, by name."""
    folder = artifacts_root / DATASETS_SUBDIR
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / MANIFEST).is_file())
