"""The live judge: follows the trajectory log, publishes each action's verdict once it is due.

It reads the log under one durable group, so a restart resumes where it stopped; a trajectory
met mid-way is first restored from the archive (its earlier events and the verdicts already
given). Verdict ids derive from (action, ruleset version), so whatever is judged twice after a
redelivery or a restart is recorded once.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from apollo.v1 import events_pb2 as pb
from services.eventlog.subscription import BATCHED_FETCH_WAIT_MS, Bus, Delivery, Subscription
from services.eventlog.topics import TRAJECTORIES
from services.judge import metrics
from services.judge.following import DueVerdict, FollowedTrajectories
from services.judge.handlers import ROUTES
from services.judge.history import NoHistory, TrajectoryHistory
from services.judge.judging import judge_with_models
from services.judge.llm_cache import InMemoryLlmJudgementCache
from services.judge.llm_stage import LlmJudgeStage
from services.judge.rules import Verdict
from services.judge.ruleset import Ruleset
from services.judge.settings import JUDGE_GROUP
from services.judge.verdict_events import verdict_event
from services.llm.backend_pool import BackendPool

log = structlog.get_logger(__name__)


class JudgeService:
    """Judges the actions of every trajectory in the log under one ruleset."""

    def __init__(
        self,
        bus: Bus,
        ruleset: Ruleset,
        group: str = JUDGE_GROUP,
        history: TrajectoryHistory | None = None,
        stage: LlmJudgeStage | None = None,
    ) -> None:
        self._bus = bus
        self._group = group
        self._history = history or NoHistory()
        # Without one given, llm_judge rules call models built from the environment, uncached.
        self._stage = stage or LlmJudgeStage(BackendPool(1), InMemoryLlmJudgementCache())
        self.followed = FollowedTrajectories(ruleset)

    @property
    def ruleset(self) -> Ruleset:
        """The ruleset every verdict of this process is given under."""
        return self.followed.ruleset

    async def start(self) -> None:
        """Subscribe to the trajectory log under the judge's group."""
        await self._bus.subscribe(
            Subscription(
                "judge",
                (TRAJECTORIES.name,),
                self._group,
                self.on_delivery,
                fetch_wait_ms=BATCHED_FETCH_WAIT_MS,
            )
        )
        log.info("judging", ruleset=self.ruleset.version, lookahead=self.ruleset.lookahead)
        # Each verdict counts from zero, so rate() sees this ruleset's first verdicts too.
        for verdict in Verdict:
            metrics.VERDICTS.labels(self.ruleset.version, verdict.value)

    async def stop(self) -> None:
        """Nothing runs off the bus handler, so nothing is left to abandon."""

    async def on_delivery(self, delivery: Delivery) -> None:
        """The bus handler."""
        await ROUTES.route(self, delivery.event)

    async def fold(self, event: pb.Event) -> bool:
        """Fold one log event into its trajectory; False when that trajectory is done with."""
        trajectory_id = event.trajectory_id
        if not trajectory_id:
            return False
        if not self.followed.knows(trajectory_id) and not event.HasField("trajectory_started"):
            # Met mid-way, after a restart: the earlier events were handled before it.
            recorded = await self._history.events(trajectory_id)
            metrics.PENDING_ACTIONS.inc(self.followed.restore(trajectory_id, recorded))
            metrics.RESTORED.inc()
        change = self.followed.apply(event)
        if change is None:
            return False
        metrics.PENDING_ACTIONS.inc(change)
        return True

    async def judge_due(self, trigger: pb.Event) -> None:
        """Publish the verdicts that `trigger`, just folded, made due."""
        trajectory_id = trigger.trajectory_id
        actions = self.followed.due(trajectory_id)
        verdicts = await asyncio.gather(
            *(
                judge_with_models(item.view, item.position, self.ruleset, self._stage)
                for item in actions
            )
        )
        due = [
            DueVerdict(item.action, verdict)
            for item, verdict in zip(actions, verdicts, strict=True)
        ]
        if due:
            await self._bus.publish_many([verdict_event(i.action, i.verdict) for i in due])
        published = self.followed.record_published(
            trajectory_id, [item.action.event_id for item in due]
        )
        metrics.PENDING_ACTIONS.dec(published)
        lag = max(0.0, time.time() - trigger.occurred_at.ToMicroseconds() / 1e6)
        for item in due:
            self._count(item)
            metrics.LAG_SECONDS.observe(lag)

    def _count(self, item: DueVerdict) -> None:
        version = self.ruleset.version
        metrics.VERDICTS.labels(version, item.verdict.verdict.value).inc()
        for reason in item.verdict.reasons:
            metrics.REASONS.labels(version, reason.rule_id).inc()
