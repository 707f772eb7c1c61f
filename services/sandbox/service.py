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
from services.runtime.sharding import Shard
from services.sandbox.actions import RESTARTED_MID_ACTION, SERVICE, error_events, run_action
from services.sandbox.backend import SandboxUnavailable
from services.sandbox.handlers import ROUTES
from services.sandbox.history import NoHistory, TrajectoryHistory
from services.sandbox.ledger import ActionRecord, ActionState, ExecutionLedger
from services.sandbox.metrics import IGNORED, INTERRUPTED, REPUBLISHED
from services.sandbox.registry import InvalidTrajectoryId, Runtimes
from services.sandbox.settings import SANDBOX_GROUP
from services.tasks.packs import TaskPackError

log = structlog.get_logger(__name__)

# How many of the newest published actions a start checks against the archive. The broker
# loses only what the recorder had not archived yet, a fraction of a second of work.
REPUBLISH_WINDOW = 1000


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
        shard: Shard | None = None,
    ) -> None:
        self._bus = bus
        self.history = history or NoHistory()
        self.runtimes = runtimes
        self.ledger = ledger
        self._blobs = blobs
        self._shard = shard or Shard()
        self._group = self._shard.group(group)
        # Work in flight by key (an action's event id): a duplicate of a running action
        # must not republish what that action is about to publish itself.
        self._running: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        """Settle what a previous run left unfinished, then subscribe to the trajectory log."""
        await self.recover()
        await self._bus.subscribe(
            # Standing by: guidance must wake a sleeping action at once.
            Subscription(
                "sandbox", (TRAJECTORIES.name,), self._group, self.on_delivery, standby=True
            )
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
        """Route one event of this shard's trajectories; returns once an action is durably
        recorded as started."""
        if self._shard.owns(event.trajectory_id):
            await ROUTES.route(self, event)

    async def serves(self, event: pb.Event) -> bool:
        """Whether the trajectory started here (a TrajectoryStarted was handled) and goes on."""
        runtime = self.runtimes.live(event.trajectory_id)
        if runtime is not None:
            return not runtime.ended
        record = await self.ledger.trajectory(event.trajectory_id)
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

    def is_running(self, key: str) -> bool:
        """Whether the work of `key` (an action's event id) is still in flight here."""
        return key in self._running

    def spawn(self, key: str, work: Coroutine[object, object, None]) -> None:
        """Run `work` off the bus handler, in flight under `key` until it returns."""
        task = asyncio.create_task(work, name=f"sandbox:{key}")
        self._running[key] = task
        task.add_done_callback(lambda _: self._running.pop(key, None))

    async def execute(self, event: pb.Event) -> None:
        """Run an action recorded as started, record its events, then publish them."""
        events = await self._run_action(event)
        await self.ledger.complete(event.event_id, [encode(e) for e in events], _score_of(events))
        await self.publish(events)
        await self.ledger.mark_published(event.event_id)
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
                return await run_action(event, runtime, self._blobs)
            # The tool code is the boundary to the agent's world: anything it raises ends
            # this trajectory with an error event instead of killing the service.
            except Exception as error:
                log.exception("action failed", trajectory_id=event.trajectory_id)
                return await error_events(
                    event, runtime, self._blobs, f"internal error: {error!r}", end=True
                )

    async def recover(self) -> None:
        """Publish what was completed but not sent or lost with a broker; answer interrupted
        actions with an error."""
        await self._republish_unarchived()
        for record in self._own(await self.ledger.unfinished()):
            if record.state is ActionState.STARTED:
                INTERRUPTED.inc()
                try:
                    runtime = await self.runtimes.get(record.trajectory_id)
                except (SandboxUnavailable, TaskPackError, InvalidTrajectoryId):
                    runtime = None  # the error observation still goes out, without budgets
                events = await error_events(
                    _stand_in_action(record), runtime, self._blobs, RESTARTED_MID_ACTION, end=False
                )
                await self.ledger.complete(record.action_id, [encode(e) for e in events], None)
                record = await self.ledger.get(record.action_id)
            await self.publish_recorded(record)

    async def _republish_unarchived(self) -> None:
        """Publish again the newest observations the archive lacks: the broker took them when
        it died. Only actions that are archived themselves, so each follows its action."""
        records = self._own(await self.ledger.newest_published(REPUBLISH_WINDOW))
        produced = {record.action_id: [decode(raw) for raw in record.events] for record in records}
        ids = [*produced, *(event.event_id for events in produced.values() for event in events)]
        archived = await self.history.archived(ids)
        for action_id, events in produced.items():
            missing = [event for event in events if event.event_id not in archived]
            if action_id in archived and missing:
                REPUBLISHED.inc(len(missing))
                await self.publish(missing)

    def _own(self, records: list[ActionRecord]) -> list[ActionRecord]:
        """The records of this shard's trajectories (the ledger holds every shard's)."""
        return [record for record in records if self._shard.owns(record.trajectory_id)]

    async def publish_recorded(self, record: ActionRecord) -> None:
        """Publish an action's recorded events and note that they went out."""
        await self.publish([decode(raw) for raw in record.events])
        await self.ledger.mark_published(record.action_id)

    async def publish(self, events: list[pb.Event]) -> None:
        """Publish the events, if any."""
        if events:
            await self._bus.publish_many(events)


def _score_of(events: list[pb.Event]) -> float | None:
    """The score of an `eval` observation among an action's events."""
    for event in events:
        observation = event.observation_recorded
        if event.HasField("observation_recorded") and observation.HasField("eval_score"):
            return observation.eval_score
    return None


def _stand_in_action(record: ActionRecord) -> pb.Event:
    """An ActionProposed carrying what the ledger knows, to answer it after a restart."""
    action = pb.ActionProposed(
        step_index=record.step_index, tool_call=pb.ToolCall(name=record.tool)
    )
    event = new_event(action, trajectory_id=record.trajectory_id, service=SERVICE)
    event.event_id = record.action_id
    return event
