"""Re-judging the archive: the selected trajectories' actions under a ruleset, each judged once.

The archive is the source of truth of a re-judging run. Its verdicts are appended to the
archive directly, batch by batch (the archive dedups on event_id, and a verdict's id derives
from its action and the ruleset version), so what a killed run appended stays and a rerun
skips it. Publishing them on the verdicts topic afterwards only tells live watchers; the
recorder archiving those copies again adds nothing. The trajectory log is only read.

A ruleset with `llm_judge` rules is judged as the live judge judges it (`judge_with_models`,
its answers cached by prompt and model), so a rerun with an unchanged LLM rule asks no model;
a purely symbolic one keeps the synchronous pass over each log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from typing import Protocol

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import ArchivedEvent, EventArchive
from services.eventlog.topics import VERDICTS
from services.judge.judging import judge_with_models, llm_rules
from services.judge.llm_cache import InMemoryLlmJudgementCache, LlmJudgementCache
from services.judge.llm_estimate import JudgeEstimate, estimate
from services.judge.llm_stage import LlmJudgeStage
from services.judge.ruleset import Ruleset
from services.judge.steps import StepView, step_view
from services.judge.verdict_events import verdict_event
from services.judge.verdicts import ActionVerdict, judge_trajectory
from services.llm.backend_pool import BackendPool
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
    """What a run found and did; a plan fills the first three counts and the model estimate."""

    trajectories: int = 0
    actions: int = 0
    # Actions that already had a verdict under this version.
    already_judged: int = 0
    # Actions judged by this run, and the verdict events that were new to the archive.
    judged: int = 0
    recorded: int = 0
    # Calls to llm_judge models not answered from the cache: a plan's estimate over the
    # actions to judge, a run's count as estimated before each judging (retries not foreseen).
    model_calls: int = 0
    # A plan's approximate prompt tokens of those calls.
    prompt_tokens: int = 0
    # Whether the run stopped at its budget (of actions or of model calls) with actions left.
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


@dataclass(frozen=True)
class JudgeModels:
    """What `llm_judge` rules are judged through: the shared backends, and the answers cache."""

    pool: BackendPool
    cache: LlmJudgementCache


class VerdictPublisher(Protocol):
    """Where live watchers hear of new verdicts (the bus), if anywhere."""

    async def publish_many(self, events: Sequence[pb.Event]) -> None: ...


def ruleset_document(ruleset: Ruleset) -> str:
    """The canonical JSON of a ruleset, descriptions included, as recorded under its version."""
    return canonical_json(ruleset.model_dump(mode="json"))


def pending_actions(trajectory: ArchivedTrajectory) -> tuple[StepView, list[tuple[int, pb.Event]]]:
    """The judge's view of a trajectory, and the (position, action) of each action unjudged."""
    folded = fold(trajectory.log)
    pending = [
        (position, step.action)
        for position, step in enumerate(folded.steps)
        if step.action_id not in trajectory.judged
    ]
    return step_view(folded), pending


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
        models: JudgeModels | None = None,
    ) -> None:
        self._archive = archive
        self.ruleset = ruleset
        self._selection = selection
        self._batch = batch
        self._models = models or JudgeModels(BackendPool(1), InMemoryLlmJudgementCache())
        self._stage = LlmJudgeStage(self._models.pool, self._models.cache)
        self._asks_models = bool(llm_rules(ruleset))

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
        """What a run would judge, reading only: trajectories, actions, already judged, and
        the model calls and prompt tokens of judging the rest."""
        tally = Tally()
        async for batch in self.batches(ids):
            for trajectory in batch:
                _count(tally, trajectory)
            if self._asks_models:
                cost = await self._estimate(
                    (view, position)
                    for view, pending in map(pending_actions, batch)
                    for position, _ in pending
                )
                tally.model_calls += cost.calls
                tally.prompt_tokens += cost.prompt_tokens
        return tally

    async def run(
        self,
        ids: Sequence[str],
        budget: int | None = None,
        publisher: VerdictPublisher | None = None,
        on_batch: Callable[[int], None] = lambda done: None,
        max_calls: int | None = None,
    ) -> Tally:
        """Judge the actions of `ids` that lack a verdict: at most `budget` actions, and no
        more actions than `max_calls` uncached model calls pay for."""
        await self._archive.record_ruleset(self.ruleset.version, ruleset_document(self.ruleset))
        tally = Tally()
        # One batch is appended while the next is read and judged: the archive's work on the
        # append overlaps with ours. Each append is its own transaction, so a kill loses
        # at most the batches not committed yet, which a rerun judges.
        recording: asyncio.Task[None] | None = None
        try:
            async for batch in self.batches(ids):
                events = await self._judge_batch(batch, tally, budget, max_calls)
                if recording is not None:
                    await recording
                done = len(ids) if tally.budget_reached else len(batch)
                recording = asyncio.create_task(
                    self._record(events, tally, publisher, partial(on_batch, done))
                )
                if tally.budget_reached:
                    break
        finally:
            if recording is not None:
                await recording
        return tally

    async def _judge_batch(
        self,
        batch: list[ArchivedTrajectory],
        tally: Tally,
        budget: int | None,
        max_calls: int | None,
    ) -> list[pb.Event]:
        """The verdict events of a batch's unjudged actions, within the budgets left."""
        events = []
        for trajectory in batch:
            _count(tally, trajectory)
            if not trajectory.pending:
                continue
            left = None if budget is None else budget - tally.judged
            if self._asks_models:
                calls_left = None if max_calls is None else max_calls - tally.model_calls
                fresh = await self._model_verdicts(trajectory, left, calls_left, tally)
            else:
                fresh = self._fresh_verdicts(trajectory)[:left]
            tally.judged += len(fresh)
            events += fresh
            tally.budget_reached = len(fresh) < trajectory.pending
            if tally.budget_reached:
                break
        return events

    def _fresh_verdicts(self, trajectory: ArchivedTrajectory) -> list[pb.Event]:
        """The verdict events on the trajectory's actions that have none, in step order."""
        return [
            verdict_event(action, verdict)
            for action, verdict in judge_log(trajectory.log, self.ruleset)
            if action.event_id not in trajectory.judged
        ]

    async def _model_verdicts(
        self,
        trajectory: ArchivedTrajectory,
        left: int | None,
        calls_left: int | None,
        tally: Tally,
    ) -> list[pb.Event]:
        """Verdicts on the first unjudged actions that `left` actions and `calls_left` calls
        allow, judged concurrently through the models; counts the calls in `tally`."""
        view, pending = pending_actions(trajectory)
        pending, calls = await self._affordable(view, pending[:left], calls_left)
        tally.model_calls += calls
        verdicts = await asyncio.gather(
            *(judge_with_models(view, p, self.ruleset, self._stage) for p, _ in pending)
        )
        return [
            verdict_event(action, verdict)
            for (_, action), verdict in zip(pending, verdicts, strict=True)
        ]

    async def _affordable(
        self, view: StepView, pending: list[tuple[int, pb.Event]], calls_left: int | None
    ) -> tuple[list[tuple[int, pb.Event]], int]:
        """The longest head of `pending` whose estimated calls fit `calls_left`, and its calls."""
        calls = (await self._estimate((view, position) for position, _ in pending)).calls
        if calls_left is None or calls <= calls_left:
            return pending, calls
        # Over budget within this trajectory: action by action, so no call goes over it.
        spent = 0
        for taken, (position, _) in enumerate(pending):
            cost = (await self._estimate([(view, position)])).calls
            if spent + cost > calls_left:
                return pending[:taken], spent
            spent += cost
        return pending, spent

    async def _estimate(self, actions: Iterable[tuple[StepView, int]]) -> JudgeEstimate:
        return await estimate(actions, self.ruleset, self._models.cache)

    async def _record(
        self,
        events: list[pb.Event],
        tally: Tally,
        publisher: VerdictPublisher | None,
        reported: Callable[[], None],
    ) -> None:
        """Append a batch's verdicts, tell live watchers, then report the batch done."""
        if events:
            tally.recorded += await self._archive.append([(VERDICTS.name, e) for e in events])
            if publisher is not None:
                await publisher.publish_many(events)
        reported()


def _count(tally: Tally, trajectory: ArchivedTrajectory) -> None:
    tally.trajectories += 1
    tally.actions += trajectory.actions
    tally.already_judged += len(trajectory.judged)
