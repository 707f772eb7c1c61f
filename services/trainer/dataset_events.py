"""The DatasetBuilt event of a written dataset, keyed by its dataset id (no trajectory)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event
from services.trainer.dataset_store import SAMPLES
from services.trainer.settings import dataset_dir

SERVICE = "trainer"
# The canonical rows hold every export's content; `format` names them.
CANONICAL_FORMAT = "apollo-samples"
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"


def dataset_built_event(artifacts_root: Path, manifest: dict) -> pb.Event:
    """DatasetBuilt with the lineage and counts, its artifact the digest of samples.parquet."""
    samples = dataset_dir(artifacts_root, manifest["dataset_id"]) / SAMPLES
    content = samples.read_bytes()
    counts = manifest["counts"]
    body = pb.DatasetBuilt(
        dataset_id=manifest["dataset_id"],
        ruleset_version=manifest["ruleset_version"],
        trajectory_ids=[t["trajectory_id"] for t in manifest["lineage"]],
        react_samples=counts["react_samples"],
        summary_samples=counts["summary_samples"],
        dropped_samples=counts["dropped_too_long"],
        format=CANONICAL_FORMAT,
        artifact=pb.BlobRef(
            digest="sha256:" + hashlib.sha256(content).hexdigest(),
            size_bytes=len(content),
            media_type=PARQUET_MEDIA_TYPE,
        ),
    )
    return new_event(body, trajectory_id="", service=SERVICE)
