"""The sandbox service: trajectory events in, observations out, each action at most once."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine

import structlog

from apollo.v1 import events_pb2 as pb
from services.eventlog.blobs import BlobStore
from services.eventlog.bus import Bus, Delivery, Subscription
from services.eventlog.codec import decode, encode
from services.eventlog.events import body_kind, new_event
from services.eventlog.topics import TRAJECTORIES
from services.sandbox.backend import SandboxUnavailable
from services.sandbox.handlers import (
    RESTARTED_MID_ACTION,
    SERVICE,
    end_trajectory,
    error_events,
    handle_action_proposed,
    handle_guidance_submitted,
)
from services.sandbox.history import NoHistory, TrajectoryHistory
from services.sandbox.ledger import ActionRecord, ActionState, ExecutionLedger, TrajectoryRecord
from services.sandbox.metrics import DUPLICATES, IGNORED, INTERRUPTED
from services.sandbox.registry import InvalidTrajectoryId, Runtimes, check_trajectory_id
from services.sandbox.settings import SANDBOX_GROUP
from services.tasks.packs import TaskPackError
from services.trajectory.state import is_imported

log = structlog.get_logger(__name__)


class SandboxService:
    """Runs actions of many trajectories concurrently, one at a time within each."""

    def __init__(
        self,
        bus: Bus,
        runtimes: Runtimes,
        ledger: ExecutionLedger,
        blobs: BlobStore,
        group: str = SANDBOX_GROUP,
        history: TrajectoryHistory | None = None,
    ) -> None:
        self._bus = bus
        self._history = history or NoHistory()
        self.runtimes = runtimes
        self._ledger = ledger
        self._blobs = blobs
        self._group = group
        # Work in flight by key (an action's event id): a duplicate of a running action
        # must not republish what that action is about to publish itself.
        self._running: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        """Settle what a previous run left unfinished, then subscribe to the trajectory log."""
        await self.recover()
        await self._bus.subscribe(
            Subscription("sandbox", (TRAJECTORIES.name,), self._group, self.on_delivery)
        )

    async def stop(self) -> None:
        """Cancel running actions and kill every sandbox; their ledger entries stay 'started'."""
        for task in self._running.values():
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        await self.runtimes.close_all()

    async def drain(self) -> None:
        """Wait until every action in flight has published its events."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def on_delivery(self, delivery: Delivery) -> None:
        """The bus handler."""
        await self.on_event(delivery.event)

    async def on_event(self, event: pb.Event) -> None:
        """Route one trajectory event; returns once an action is durably recorded as started."""
        kind = body_kind(event)
        if kind == "trajectory_started":
            await self._on_started(event)
        elif kind == "action_proposed":
            await self._on_action(event)
        elif kind == "guidance_submitted":
            runtime = self.runtimes.live(event.trajectory_id)
            if runtime is not None:
                handle_guidance_submitted(event, runtime)
        elif kind == "trajectory_cancelled" and await self._serves(event):
            # A cancel waits for the running action (a sleep may take 30 minutes): off the
            # bus handler, so other trajectories keep flowing.
            self._spawn(f"cancel:{event.event_id}", self._cancel(event))

    async def _serves(self, event: pb.Event) -> bool:
        """Whether the trajectory started here (a TrajectoryStarted was handled) and goes on."""
        runtime = self.runtimes.live(event.trajectory_id)
        if runtime is not None:
            return not runtime.ended
        record = await self._ledger.trajectory(event.trajectory_id)
        if record is None or record.ended:
            IGNORED.inc()
            log.warning(
                "ignored an event of a trajectory this sandbox does not run",
                trajectory_id=event.trajectory_id,
                event_id=event.event_id,
                kind=body_kind(event),
                ended=record is not None,
            )
            return False
        return True

    async def _on_started(self, event: pb.Event) -> None:
        started = event.trajectory_started
        if is_imported(started):
            IGNORED.inc()
            log.info("not running an imported trajectory", trajectory_id=event.trajectory_id)
            return
        known = await self._ledger.trajectory(event.trajectory_id)
        if known is not None and known.ended:
            return  # a re-delivered start of a finished trajectory
        if known is None and await self._history.has_ended(event.trajectory_id):
            # Imported or replayed history: its actions were observed long ago, elsewhere.
            IGNORED.inc()
            log.info(
                "not running a trajectory the archive shows ended",
                trajectory_id=event.trajectory_id,
            )
            return
        try:
            check_trajectory_id(event.trajectory_id)
            pack = self.runtimes.catalog.get(started.task_id)
        except (InvalidTrajectoryId, TaskPackError) as error:
            await self._publish([_ended_with_error(event, str(error))])
            return
        budgets = pack.manifest.budgets
        record = TrajectoryRecord(
            trajectory_id=event.trajectory_id,
            task_id=started.task_id,
            max_steps=started.budgets.max_steps or budgets.steps,
            max_seconds=started.budgets.max_seconds or int(budgets.hours * 3600),
            max_evals=started.budgets.max_evals or budgets.evals,
            started_at=event.occurred_at.ToMicroseconds() / 1e6,
        )
        await self._ledger.remember_trajectory(record)
        try:
            await self.runtimes.open(record)
        except SandboxUnavailable as error:
            await self._ledger.mark_ended(event.trajectory_id)
            await self._publish([_ended_with_error(event, f"the environment failed: {error}")])

    async def _cancel(self, event: pb.Event) -> None:
        runtime = await self.runtimes.get(event.trajectory_id)
        if runtime is None:
            return
        async with runtime.lock:
            if runtime.ended:
                return
            ended = await end_trajectory(runtime, pb.END_REASON_CANCELLED, 0)
        ended.detail = event.trajectory_cancelled.reason
        await self._publish(
            [
                new_event(
                    ended,
                    trajectory_id=event.trajectory_id,
                    service=SERVICE,
                    causation_id=event.event_id,
                )
            ]
        )
        await self.runtimes.close(event.trajectory_id)

    async def _on_action(self, event: pb.Event) -> None:
        if not await self._serves(event):
            return
        action = event.action_proposed
        fresh = await self._ledger.start(
            ActionRecord(
                action_id=event.event_id,
                trajectory_id=event.trajectory_id,
                step_index=action.step_index,
                tool=action.tool_call.name,
                state=ActionState.STARTED,
            )
        )
        if not fresh:
            DUPLICATES.inc()
            known = await self._ledger.get(event.event_id)
            # Completed but unpublished, and no longer in flight here: its publish was lost.
            if known.state is ActionState.COMPLETED and event.event_id not in self._running:
                await self._publish_recorded(known)
            return
        # Run outside the bus handler: a 30-minute sleep must not hold up other trajectories.
        self._spawn(event.event_id, self._execute(event))

    def _spawn(self, key: str, work: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(work, name=f"sandbox:{key}")
        self._running[key] = task
        task.add_done_callback(lambda _: self._running.pop(key, None))

    async def _execute(self, event: pb.Event) -> None:
        events = await self._run_action(event)
        await self._ledger.complete(event.event_id, [encode(e) for e in events], _score_of(events))
        await self._publish(events)
        await self._ledger.mark_published(event.event_id)
        if any(e.HasField("trajectory_ended") for e in events):
            await self.runtimes.close(event.trajectory_id)

    async def _run_action(self, event: pb.Event) -> list[pb.Event]:
        try:
            runtime = await self.runtimes.get(event.trajectory_id)
        except (SandboxUnavailable, TaskPackError, InvalidTrajectoryId) as error:
            return await error_events(
                event, None, self._blobs, f"the environment failed: {error}", end=True
            )
        if runtime is None:
            return await error_events(
                event, None, self._blobs, "this trajectory was never started here", end=True
            )
        async with runtime.lock:
            try:
                return await handle_action_proposed(event, runtime, self._blobs)
            # The tool code is the boundary to the agent's world: anything it raises ends
            # this trajectory with an error event instead of killing the service.
            except Exception as error:
                log.exception("action failed", trajectory_id=event.trajectory_id)
                return await error_events(
                    event, runtime, self._blobs, f"internal error: {error!r}", end=True
                )

    async def recover(self) -> None:
        """Publish what was completed but not sent; answer interrupted actions with an error."""
        for record in await self._ledger.unfinished():
            if record.state is ActionState.STARTED:
                INTERRUPTED.inc()
                try:
                    runtime = await self.runtimes.get(record.trajectory_id)
                except (SandboxUnavailable, TaskPackError, InvalidTrajectoryId):
                    runtime = None  # the error observation still goes out, without budgets
                events = await error_events(
                    _stand_in_action(record), runtime, self._blobs, RESTARTED_MID_ACTION, end=False
                )
                await self._ledger.complete(record.action_id, [encode(e) for e in events], None)
                record = await self._ledger.get(record.action_id)
            await self._publish_recorded(record)

    async def _publish_recorded(self, record: ActionRecord) -> None:
        await self._publish([decode(raw) for raw in record.events])
        await self._ledger.mark_published(record.action_id)

    async def _publish(self, events: list[pb.Event]) -> None:
        if events:
            await self._bus.publish_many(events)


def _score_of(events: list[pb.Event]) -> float | None:
    """The score of an `eval` observation among an action's events."""
    for event in events:
        observation = event.observation_recorded
        if event.HasField("observation_recorded") and observation.HasField("eval_score"):
            return observation.eval_score
    return None


def _ended_with_error(event: pb.Event, detail: str) -> pb.Event:
    return new_event(
        pb.TrajectoryEnded(reason=pb.END_REASON_ERROR, detail=detail),
        trajectory_id=event.trajectory_id,
        service=SERVICE,
        causation_id=event.event_id,
    )


def _stand_in_action(record: ActionRecord) -> pb.Event:
    """An ActionProposed carrying what the ledger knows, to answer it after a restart."""
    action = pb.ActionProposed(
        step_index=record.step_index, tool_call=pb.ToolCall(name=record.tool)
    )
    event = new_event(action, trajectory_id=record.trajectory_id, service=SERVICE)
    event.event_id = record.action_id
    return event
