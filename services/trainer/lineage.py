"""A checkpoint's lineage: its dataset, ruleset version, trajectories and evaluations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf import json_format
from google.protobuf.message import Message

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import EventArchive, TrajectoryRow
from services.trainer.evaluation import UnknownCheckpoint
from services.trainer.evaluation_archive import TrainingFacts


@dataclass(frozen=True)
class TrajectoryOrigin:
    """One trajectory the dataset was built from; `row` is None when the archive lacks it."""

    trajectory_id: str
    row: TrajectoryRow | None

    def as_json(self) -> dict:
        """A JSON-ready dict."""
        if self.row is None:
            return {"trajectory_id": self.trajectory_id, "archived": False}
        row = self.row
        return {
            "trajectory_id": self.trajectory_id,
            "archived": True,
            "task_id": row.task_id,
            "status": row.status,
            "steps": row.steps,
            "guidance_count": row.guidance_count,
            "final_score": row.final_score,
        }


@dataclass(frozen=True)
class Lineage:
    """From a checkpoint back to its trajectories, and on to its evaluations."""

    checkpoint: pb.CheckpointSaved
    # None when the archive has no DatasetBuilt of the checkpoint's dataset id.
    dataset: pb.DatasetBuilt | None
    trajectories: tuple[TrajectoryOrigin, ...]
    evaluations: tuple[pb.EvaluationScored, ...]

    def as_json(self) -> dict:
        """A JSON-ready dict (protobuf JSON with proto field names for the events)."""
        return {
            "checkpoint": _message_json(self.checkpoint),
            "dataset": None if self.dataset is None else _message_json(self.dataset),
            "trajectories": [origin.as_json() for origin in self.trajectories],
            "evaluations": [_message_json(score) for score in self.evaluations],
        }


def _message_json(message: Message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def assemble_lineage(
    facts: TrainingFacts, checkpoint_id: str, rows: Mapping[str, TrajectoryRow]
) -> Lineage:
    """The lineage of one checkpoint; `rows` are the read model's rows by trajectory id."""
    saved = facts.checkpoints.get(checkpoint_id)
    if saved is None:
        raise UnknownCheckpoint(f"no CheckpointSaved {checkpoint_id!r} in the archive")
    checkpoint = saved.checkpoint_saved
    built = facts.datasets.get(checkpoint.dataset_id)
    dataset = None if built is None else built.dataset_built
    trajectory_ids = [] if dataset is None else list(dataset.trajectory_ids)
    return Lineage(
        checkpoint=checkpoint,
        dataset=dataset,
        trajectories=tuple(TrajectoryOrigin(tid, rows.get(tid)) for tid in trajectory_ids),
        evaluations=tuple(facts.scores_of(checkpoint_id)),
    )


async def lineage_of(archive: EventArchive, facts: TrainingFacts, checkpoint_id: str) -> Lineage:
    """The lineage of one checkpoint, its trajectories read from the archive's read model."""
    empty = assemble_lineage(facts, checkpoint_id, {})
    rows = {}
    for origin in empty.trajectories:
        row = await archive.trajectory(origin.trajectory_id)
        if row is not None:
            rows[origin.trajectory_id] = row
    return assemble_lineage(facts, checkpoint_id, rows)
