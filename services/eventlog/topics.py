"""The Kafka topics, as data, and which events go where."""

from __future__ import annotations

from dataclasses import dataclass

from apollo.v1 import events_pb2 as pb


@dataclass(frozen=True)
class Topic:
    """A topic and how its messages are keyed."""

    name: str
    # One partition keeps a total order per key; more partitions scale consumers.
    partitions: int
    description: str


TRAJECTORIES = Topic(
    "apollo.trajectories.v1", 1, "the log of every trajectory, keyed by trajectory_id"
)
VERDICTS = Topic("apollo.verdicts.v1", 1, "ActionJudged, keyed by trajectory_id")
TRAINING = Topic(
    "apollo.training.v1", 1, "DatasetBuilt, CheckpointSaved, EvaluationScored, keyed by dataset"
)
DEADLETTER = Topic("apollo.deadletter.v1", 1, "messages a consumer rejected, with the raw bytes")

EVENT_TOPICS: tuple[Topic, ...] = (TRAJECTORIES, VERDICTS, TRAINING)
ALL_TOPICS: tuple[Topic, ...] = (*EVENT_TOPICS, DEADLETTER)

_TOPIC_BY_KIND = {
    "action_judged": VERDICTS,
    "dataset_built": TRAINING,
    "checkpoint_saved": TRAINING,
    "evaluation_scored": TRAINING,
}


def topic_for(event: pb.Event) -> Topic:
    """The topic an event is published on."""
    return _TOPIC_BY_KIND.get(event.WhichOneof("body") or "", TRAJECTORIES)


def key_for(event: pb.Event) -> bytes:
    """The partition key: the trajectory, or for dataset-level facts the dataset."""
    if event.trajectory_id:
        return event.trajectory_id.encode()
    kind = event.WhichOneof("body")
    body = getattr(event, kind) if kind else None
    dataset_id = getattr(body, "dataset_id", "") if body is not None else ""
    return (dataset_id or event.event_id).encode()
