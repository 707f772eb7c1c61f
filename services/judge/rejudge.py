"""Re-judging the archive: the selected trajectories' actions under a ruleset, each judged once.

The archive is the source of truth of a re-judging run. Its verdicts are appended to the
archive directly, batch by batch (the archive dedups on event_id, and a verdict's id derives
from its action and the ruleset version), so what a killed run appended stays and a rerun
skips it. Publishing them on the verdicts topic afterwards only tells live watchers; the
recorder archiving those copies again adds nothing. The trajectory log is only read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Protocol

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import ArchivedEvent, EventArchive
from services.eventlog.topics import VERDICTS
from services.judge.ruleset import Ruleset
from services.judge.steps import step_view
from services.judge.verdict_events import verdict_event
from services.judge.verdicts import ActionVerdict, judge_trajectory
from services.trajectory import fold
from services.trajectory.canonical import canonical_json

# Trajectories read (and verdicts appended) per archive round trip.
BATCH_TRAJECTORIES = 200


class UnknownTrajectories(LookupError):
    """Trajectory ids asked for by name that the archive has no event of."""


@dataclass(frozen=True)
class Selection:
    """Which archived trajectories to judge; every selector given must hold."""

    trajectory_ids: tuple[str, ...] = ()
    task_id: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    since: datetime | None = None

    def admits(self, log: Sequence[ArchivedEvent]) -> bool:
        """Whether a trajectory's start carries every wanted label."""
        if not self.labels:
            return True
        started = next((r.event for r in log if r.kind == "trajectory_started"), None)
        labels = started.trajectory_started.labels if started is not None else {}
        return all(labels.get(key) == value for key, value in self.labels.items())


@dataclass
class Tally:
    """What a run found and did; a dry run fills only the first three counts."""

    trajectories: int = 0
    actions: int = 0
    # Actions that already had a verdict under this version.
    already_judged: int = 0
    # Actions judged by this run, and the verdict events that were new to the archive.
    judged: int = 0
    recorded: int = 0
    # Whether the run stopped at its budget with actions left to judge.
    budget_reached: bool = False

    def as_json(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class ArchivedTrajectory:
    """One selected trajectory: its log, and the actions already judged under the version."""

    trajectory_id: str
    log: tuple[pb.Event, ...]
    judged: frozenset[str]

    @property
    def actions(self) -> int:
        """How many actions its log has."""
        return sum(1 for event in self.log if event.HasField("action_proposed"))

    @property
    def pending(self) -> int:
        """How many of its actions have no verdict under the version yet."""
        return self.actions - len(self.judged)


class VerdictPublisher(Protocol):
    """Where live watchers hear of new verdicts (the bus), if anywhere."""

    async def publish_many(self, events: Sequence[pb.Event]) -> None: ...


def ruleset_document(ruleset: Ruleset) -> str:
    """The canonical JSON of a ruleset, descriptions included, as recorded under its version."""
    return canonical_json(ruleset.model_dump(mode="json"))


def judge_log(log: Sequence[pb.Event], ruleset: Ruleset) -> list[tuple[pb.Event, ActionVerdict]]:
    """Every action of a trajectory's log with its verdict: the one judging call of a run."""
    trajectory = fold(log)
    verdicts = judge_trajectory(step_view(trajectory), ruleset)
    return [
        (step.action, verdict) for step, verdict in zip(trajectory.steps, verdicts, strict=True)
    ]


class Rejudging:
    """One re-judging of the archive: a ruleset over a selection of trajectories."""

    def __init__(
        self,
        archive: EventArchive,
        ruleset: Ruleset,
        selection: Selection,
        batch: int = BATCH_TRAJECTORIES,
    ) -> None:
        self._archive = archive
        self.ruleset = ruleset
        self._selection = selection
        self._batch = batch

    async def trajectory_ids(self) -> list[str]:
        """The ids the task, time and id selectors leave; raise `UnknownTrajectories`."""
        selection = self._selection
        ids = await self._archive.select_trajectories(selection.task_id, selection.since)
        if not selection.trajectory_ids:
            return ids
        wanted = set(selection.trajectory_ids)
        missing = [i for i in sorted(wanted) if await self._archive.trajectory(i) is None]
        if missing:
            raise UnknownTrajectories(f"no trajectory {', '.join(missing)} in the archive")
        return [i for i in ids if i in wanted]

    async def batches(self, ids: Sequence[str]) -> AsyncIterator[list[ArchivedTrajectory]]:
        """The selected trajectories of `ids` (labels applied), a batch at a time, in order."""
        version = self.ruleset.version
        for start in range(0, len(ids), self._batch):
            chunk = ids[start : start + self._batch]
            logs = await self._archive.logs(chunk)
            judged: dict[str, set[str]] = {}
            for row in await self._archive.verdicts(version, chunk):
                judged.setdefault(row.trajectory_id, set()).add(row.action_id)
            yield [
                ArchivedTrajectory(
                    trajectory_id,
                    tuple(record.event for record in logs[trajectory_id]),
                    frozenset(judged.get(trajectory_id, ())),
                )
                for trajectory_id in chunk
                if trajectory_id in logs and self._selection.admits(logs[trajectory_id])
            ]

    async def plan(self, ids: Sequence[str]) -> Tally:
        """What a run would judge, reading only: trajectories, actions, already judged."""
        tally = Tally()
        async for batch in self.batches(ids):
            for trajectory in batch:
                _count(tally, trajectory)
        return tally

    async def run(
        self,
        ids: Sequence[str],
        budget: int | None = None,
        publisher: VerdictPublisher | None = None,
        on_batch: Callable[[int], None] = lambda done: None,
    ) -> Tally:
        """Judge the actions of `ids` that lack a verdict, at most `budget` actions."""
        await self._archive.record_ruleset(self.ruleset.version, ruleset_document(self.ruleset))
        tally = Tally()
        async for batch in self.batches(ids):
            events = []
            for trajectory in batch:
                _count(tally, trajectory)
                if not trajectory.pending:
                    continue
                left = None if budget is None else budget - tally.judged
                # Checked before judging: a judging call may cost (the LLM stage).
                tally.budget_reached = left is not None and left < trajectory.pending
                if left == 0:
                    break
                fresh = self._fresh_verdicts(trajectory)[:left]
                tally.judged += len(fresh)
                events += fresh
                if tally.budget_reached:
                    break
            await self._record(events, tally, publisher)
            on_batch(len(ids) if tally.budget_reached else len(batch))
            if tally.budget_reached:
                break
        return tally

    def _fresh_verdicts(self, trajectory: ArchivedTrajectory) -> list[pb.Event]:
        """The verdict events on the trajectory's actions that have none, in step order."""
        return [
            verdict_event(action, verdict)
            for action, verdict in judge_log(trajectory.log, self.ruleset)
            if action.event_id not in trajectory.judged
        ]

    async def _record(
        self, events: list[pb.Event], tally: Tally, publisher: VerdictPublisher | None
    ) -> None:
        if not events:
            return
        tally.recorded += await self._archive.append([(VERDICTS.name, e) for e in events])
        if publisher is not None:
            await publisher.publish_many(events)


def _count(tally: Tally, trajectory: ArchivedTrajectory) -> None:
    tally.trajectories += 1
    tally.actions += trajectory.actions
    tally.already_judged += len(trajectory.judged)
