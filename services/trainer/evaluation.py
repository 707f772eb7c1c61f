"""Evaluation runs of a checkpoint: which runs, their ids, their labels, their scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event
from services.trajectory import Trajectory
from services.trajectory.derived_ids import derived_event_id
from services.trajectory.state import EVALUATION_LABEL

SERVICE = "trainer"
# The baseline: the base local model, before any training.
UNTRAINED = "untrained"
UNTRAINED_POLICY = "local"
# A run that ends without a score (an error, a cancel) solved nothing.
NO_SCORE = 0.0


class UnknownCheckpoint(LookupError):
    """No CheckpointSaved in the archive has this id."""


@dataclass(frozen=True)
class EvaluatedCheckpoint:
    """A checkpoint as an evaluation runs it: its id, the policy spec, the time ids derive from."""

    checkpoint_id: str
    policy: str
    # The checkpoint's CheckpointSaved time (the epoch for the untrained baseline), so the
    # ids of its runs are the same on every rerun.
    saved_at: Timestamp


@dataclass(frozen=True)
class EvaluationRun:
    """One task and seed of a checkpoint's evaluation; its ids derive from these three alone."""

    checkpoint: EvaluatedCheckpoint
    task_id: str
    # The task family's instance the run plays (a held-out one), and its sampling seed.
    seed: int

    def _derived(self, role: str) -> str:
        parts = ("evaluation", self.checkpoint.checkpoint_id, self.task_id, str(self.seed), role)
        return derived_event_id(self.checkpoint.saved_at, *parts)

    @property
    def trajectory_id(self) -> str:
        """The run's trajectory: a rerun finds (and follows) the one already started."""
        return self._derived("trajectory")

    @property
    def started_event_id(self) -> str:
        """The run's TrajectoryStarted."""
        return self._derived("started")

    @property
    def scored_event_id(self) -> str:
        """The run's EvaluationScored: a rerun that scores it again publishes nothing new."""
        return self._derived("scored")


def checkpoint_policy(saved: pb.CheckpointSaved, artifacts_root: Path) -> str:
    """The policy spec that runs a checkpoint: its model directory on the local backend."""
    directory = Path(saved.uri)
    if not directory.is_absolute():
        directory = artifacts_root / directory
    return f"local:{directory}"


def evaluated_checkpoint(
    checkpoint_id: str, saved: pb.Event | None, artifacts_root: Path, served_as: str | None = None
) -> EvaluatedCheckpoint:
    """`UNTRAINED` or the checkpoint of `saved` (its CheckpointSaved); raise `UnknownCheckpoint`.

    It runs from its directory on the local backend unless `served_as` names the policy spec
    that serves it (an OpenAI-compatible server, for example).
    """
    if checkpoint_id == UNTRAINED:
        return EvaluatedCheckpoint(UNTRAINED, served_as or UNTRAINED_POLICY, Timestamp())
    if saved is None:
        raise UnknownCheckpoint(
            f"no CheckpointSaved {checkpoint_id!r} in the archive: train one with `apollo train`, "
            f"or evaluate the base model with --checkpoint {UNTRAINED}"
        )
    policy = served_as or checkpoint_policy(saved.checkpoint_saved, artifacts_root)
    return EvaluatedCheckpoint(checkpoint_id, policy, saved.occurred_at)


def plan_runs(
    checkpoint: EvaluatedCheckpoint, task_ids: Sequence[str], seeds: Sequence[int]
) -> list[EvaluationRun]:
    """Every task on every instance seed, task by task."""
    return [EvaluationRun(checkpoint, task, seed) for task in task_ids for seed in seeds]


def evaluation_labels(checkpoint_id: str, variant: str) -> dict[str, str]:
    """The labels that tell the annotators, drift signals and dashboards it is an evaluation."""
    return {EVALUATION_LABEL: "true", "checkpoint": checkpoint_id, "variant": variant}


def seeded(started: pb.Event, run: EvaluationRun) -> pb.Event:
    """The run's TrajectoryStarted: its derived ids, and its seed, which names the task's
    instance and seeds the policy's sampling."""
    started.event_id = run.started_event_id
    started.trajectory_id = run.trajectory_id
    started.trajectory_started.task_seed = run.seed
    started.trajectory_started.policy.sampling.seed = run.seed
    return started


def scored_event(run: EvaluationRun, ended: Trajectory, variant: str) -> pb.Event:
    """The run's EvaluationScored, caused by its TrajectoryEnded."""
    final = ended.final_score if ended.final_score is not None else NO_SCORE
    body = pb.EvaluationScored(
        checkpoint_id=run.checkpoint.checkpoint_id,
        task_id=run.task_id,
        evaluation_trajectory_id=run.trajectory_id,
        final_score=final,
        best_score=ended.best_score if ended.best_score is not None else final,
        variant=variant,
    )
    return new_event(
        body,
        trajectory_id="",
        service=SERVICE,
        causation_id=ended.ended.event_id if ended.ended is not None else "",
        event_id=run.scored_event_id,
    )
