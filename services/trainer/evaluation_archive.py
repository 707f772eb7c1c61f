"""The training facts of the archive: datasets, checkpoints and evaluation scores."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import EventArchive
from services.eventlog.events import body_kind
from services.eventlog.topics import TRAINING


@dataclass
class TrainingFacts:
    """Every DatasetBuilt, CheckpointSaved and EvaluationScored, in archive order."""

    # The first event of each id wins: a dataset or checkpoint is built once.
    datasets: dict[str, pb.Event] = field(default_factory=dict)
    checkpoints: dict[str, pb.Event] = field(default_factory=dict)
    scores: list[pb.Event] = field(default_factory=list)

    @classmethod
    def of(cls, events: Iterable[pb.Event]) -> TrainingFacts:
        """The facts among `events` (others are ignored)."""
        facts = cls()
        for event in events:
            facts.add(event)
        return facts

    def add(self, event: pb.Event) -> None:
        """Record one training event."""
        kind = body_kind(event)
        if kind == "dataset_built":
            self.datasets.setdefault(event.dataset_built.dataset_id, event)
        elif kind == "checkpoint_saved":
            self.checkpoints.setdefault(event.checkpoint_saved.checkpoint_id, event)
        elif kind == "evaluation_scored":
            self.scores.append(event)

    @property
    def scored_event_ids(self) -> set[str]:
        """The event ids of every EvaluationScored, to skip runs already scored."""
        return {event.event_id for event in self.scores}

    def scores_of(self, checkpoint_id: str) -> list[pb.EvaluationScored]:
        """One checkpoint's evaluation scores."""
        bodies = (event.evaluation_scored for event in self.scores)
        return [body for body in bodies if body.checkpoint_id == checkpoint_id]


async def training_facts(archive: EventArchive) -> TrainingFacts:
    """Read the training topic's events out of the archive."""
    facts = TrainingFacts()
    async for record in archive.iter_all():
        if record.topic == TRAINING.name:
            facts.add(record.event)
    return facts
