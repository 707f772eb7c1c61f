"""The labels a trajectory's events carry on the domain metrics, from its TrajectoryStarted."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import ArchivedEvent, EventArchive
from services.trajectory.state import is_evaluation

EXPERIMENT_LABEL = "experiment"
# A trajectory whose start the archive lacks (an import of a partial log, say).
UNKNOWN = "unknown"
# The events counted under their trajectory's run labels; verdicts carry their own.
LABELLED_KINDS = frozenset({"action_proposed", "guidance_submitted", "trajectory_ended"})


@dataclass(frozen=True)
class RunLabels:
    """Bounded labels of one trajectory: its task pack, policy backend, experiment and purpose."""

    task: str
    backend: str
    experiment: str
    # "evaluation" (a checkpoint runs unguided) or "collection" (a run to collect data from).
    purpose: str

    @classmethod
    def of(cls, started: pb.TrajectoryStarted) -> RunLabels:
        """The labels of a trajectory that started so."""
        return cls(
            task=started.task_id or UNKNOWN,
            backend=started.policy.backend or UNKNOWN,
            experiment=started.labels.get(EXPERIMENT_LABEL, ""),
            purpose="evaluation" if is_evaluation(started) else "collection",
        )


UNSTARTED = RunLabels(UNKNOWN, UNKNOWN, "", "collection")


class RunLabelCache:
    """The labels of recently active trajectories, at most `size`; misses read the archive.

    A trajectory started before this process (or pushed out of the cache) costs one lookup
    of its start, shared by every miss of the same page of events.
    """

    def __init__(self, archive: EventArchive, size: int) -> None:
        self._archive = archive
        self._size = size
        self._labels: OrderedDict[str, RunLabels] = OrderedDict()

    async def load(self, records: Iterable[ArchivedEvent]) -> None:
        """Make sure every trajectory of these records has its labels cached."""
        missing: set[str] = set()
        for record in records:
            if record.kind == "trajectory_started":
                self._put(record.trajectory_id, RunLabels.of(record.event.trajectory_started))
            elif record.kind in LABELLED_KINDS and record.trajectory_id not in self._labels:
                missing.add(record.trajectory_id)
        missing -= self._labels.keys()
        if not missing:
            return
        found = await self._archive.starts(sorted(missing))
        for trajectory_id in missing:
            start = found.get(trajectory_id)
            self._put(
                trajectory_id,
                UNSTARTED if start is None else RunLabels.of(start.event.trajectory_started),
            )

    def get(self, trajectory_id: str) -> RunLabels:
        """The cached labels of a trajectory (`load` its records first)."""
        labels = self._labels.get(trajectory_id, UNSTARTED)
        if trajectory_id in self._labels:
            self._labels.move_to_end(trajectory_id)
        return labels

    def forget(self, trajectory_id: str) -> None:
        """Drop an ended trajectory: later events of it (verdicts) need no run labels."""
        self._labels.pop(trajectory_id, None)

    def __len__(self) -> int:
        return len(self._labels)

    def _put(self, trajectory_id: str, labels: RunLabels) -> None:
        self._labels[trajectory_id] = labels
        self._labels.move_to_end(trajectory_id)
        while len(self._labels) > self._size:
            self._labels.popitem(last=False)
