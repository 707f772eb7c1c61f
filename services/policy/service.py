"""The policy's loop: fold the log, and on each trajectory's turn propose its next action.

Crash safety rests on three things: every start re-reads the whole log under a fresh
consumer group, so the state is rebuilt before anything is decided; a turn only acts on
a state whose own last proposal is back in the log; and a proposal's event_id is derived
from the step it answers, so proposing a step twice records it once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event_id
from services.eventlog.subscription import Bus, Delivery, Subscription
from services.eventlog.topics import TRAJECTORIES
from services.llm.backend_pool import Lease
from services.llm.port import (
    BackendError,
    ModelReply,
    Prompt,
    RetryableBackendError,
    SamplingParams,
)
from services.policy import metrics
from services.policy.backends import Backends
from services.policy.handlers import ROUTES
from services.policy.proposals import action_proposed, summary_requested
from services.policy.scripts import BadScript
from services.policy.settings import PolicySettings
from services.policy.turns import may_propose, summary_request
from services.trajectory.prompt import RenderError, render_next_prompt
from services.trajectory.state import Trajectory, next_step_index
from services.trajectory.tracker import TrajectoryTracker

log = structlog.get_logger(__name__)


class PolicyService:
    """Proposes the next action of every trajectory of its shard whose turn it is."""

    def __init__(self, bus: Bus, backends: Backends, settings: PolicySettings) -> None:
        self._bus = bus
        self._backends = backends
        self.settings = settings
        self.tracker = TrajectoryTracker()
        self._turns: dict[str, asyncio.Task[None]] = {}
        # Trajectories that got news while their turn was running: look again afterwards.
        self._dirty: set[str] = set()
        # The event each trajectory's last proposal published, until the log shows it.
        self._awaiting: dict[str, str] = {}
        self._since = datetime.now(UTC)
        self.group = f"{settings.policy_group}.{new_event_id()}"

    async def start(self) -> None:
        """Subscribe from the beginning of the log under this process's own group."""
        await self._bus.subscribe(
            # Standing by: the observation of a sleep that guidance woke is the next prompt's.
            Subscription("policy", (TRAJECTORIES.name,), self.group, self.on_delivery, standby=True)
        )

    async def stop(self) -> None:
        """Abandon the turns in flight; a restart proposes them again under the same ids."""
        tasks = list(self._turns.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Wait until no turn is running (for tests and benchmarks)."""
        while self._turns:
            await asyncio.gather(*list(self._turns.values()), return_exceptions=True)

    async def on_delivery(self, delivery: Delivery) -> None:
        """The bus handler."""
        await self.on_event(delivery.event)

    async def on_event(self, event: pb.Event) -> None:
        """Route one event to its handler."""
        await ROUTES.route(self, event)

    def let_go(self, trajectory_id: str) -> None:
        """Stop awaiting the last proposal of a trajectory that is over (or unknown)."""
        self._awaiting.pop(trajectory_id, None)
        self._backends.forget(trajectory_id)

    def kick(self, trajectory_id: str) -> None:
        """Start the trajectory's turns, or have the running ones look again."""
        if trajectory_id in self._turns:
            self._dirty.add(trajectory_id)
            return
        self._turns[trajectory_id] = asyncio.create_task(
            self._run_turns(trajectory_id), name=f"turn:{trajectory_id}"
        )

    async def _run_turns(self, trajectory_id: str) -> None:
        try:
            while True:
                self._dirty.discard(trajectory_id)
                await self._take_turn(trajectory_id)
                if trajectory_id not in self._dirty:
                    return
        # One trajectory's failure must not stop the others; it is retried on its next event.
        except Exception:
            log.exception("turn failed", trajectory_id=trajectory_id)
        finally:
            # Removed here, not in a done-callback, so no kick can slip in between.
            self._turns.pop(trajectory_id, None)

    def _ready(self, trajectory_id: str) -> Trajectory | None:
        state = self.tracker.get(trajectory_id)
        if state is None or not may_propose(state):
            return None
        awaited = self._awaiting.get(trajectory_id)
        return None if awaited and awaited not in state.event_ids else state

    async def _take_turn(self, trajectory_id: str) -> None:
        state = self._ready(trajectory_id)
        if state is not None and self._only_history(state):
            # Replaying after a restart: the log very likely holds this step's action further on.
            await asyncio.sleep(self.settings.policy_replay_grace_s)
            state = self._ready(trajectory_id)
        if state is None:
            return
        try:
            upcoming = render_next_prompt(state)
            lease = self._backends.lease(state, upcoming.step_index)
        except (RenderError, BadScript, BackendError) as error:
            log.error("cannot take turn", trajectory_id=trajectory_id, error=str(error))
            return
        prompt = upcoming.prompt
        # Off the event loop: the local tokenizer (and its first model load) takes a while.
        tokens = await asyncio.to_thread(lease.backend.count_tokens, prompt.messages, prompt.tools)
        summary = summary_request(state, upcoming, tokens)
        if summary is not None:
            metrics.SUMMARIES_REQUESTED.inc()
            await self._publish(summary_requested(state, upcoming, summary))
            return
        reply = await self._complete(trajectory_id, lease, prompt)
        latest = self._ready(trajectory_id)
        if reply is None or latest is None or next_step_index(latest) != upcoming.step_index:
            metrics.DISCARDED.inc()
            return
        metrics.PROMPT_TOKENS.observe(tokens)
        sampling = SamplingParams.from_proto(state.started.trajectory_started.policy.sampling)
        event = action_proposed(state, upcoming, lease.backend.spec.to_proto(sampling), reply)
        await self._publish(event)
        metrics.STEPS.labels(lease.spec).inc()
        for kind, count in reply.usage.by_kind().items():
            metrics.MODEL_TOKENS.labels(lease.spec, kind).inc(count)
        if event.action_proposed.HasField("parse_error"):
            metrics.NULL_ACTIONS.labels(event.action_proposed.parse_error.kind).inc()

    def _only_history(self, state: Trajectory) -> bool:
        last = state.last_event_at
        return self.settings.policy_replay_grace_s > 0 and last is not None and last < self._since

    async def _complete(
        self, trajectory_id: str, lease: Lease, prompt: Prompt
    ) -> ModelReply | None:
        while True:
            try:
                async with lease.slots:
                    with metrics.MODEL_SECONDS.labels(lease.spec).time():
                        return await lease.backend.complete(prompt)
            except RetryableBackendError as error:
                metrics.BACKEND_ERRORS.labels(lease.spec, "retryable").inc()
                log.warning("model call failed, retrying", trajectory_id=trajectory_id,
                            error=str(error))  # fmt: skip
                await asyncio.sleep(self.settings.policy_retry_wait_s)
            except BackendError as error:
                metrics.BACKEND_ERRORS.labels(lease.spec, "fatal").inc()
                log.error("model call failed", trajectory_id=trajectory_id, error=str(error))
                return None

    async def _publish(self, event: pb.Event) -> None:
        await self._bus.publish(event)
        self._awaiting[event.trajectory_id] = event.event_id
