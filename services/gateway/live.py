"""The live log inside the gateway: fan-out to open streams and folded states for drift."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import EventArchive
from services.eventlog.events import body_kind
from services.gateway import metrics
from services.gateway.drift import DriftRules, attention_reasons
from services.trajectory import Trajectory, apply, fold
from services.trajectory.fold import LOG_KINDS

Clock = Callable[[], datetime]
# Live events of a trajectory still loading from the archive; bounded against a flood.
_EARLY_LIMIT = 10_000


class LiveStream:
    """One open stream's queue of events; it overflows rather than slow the others down."""

    def __init__(self, trajectory_id: str | None, size: int) -> None:
        self.trajectory_id = trajectory_id
        self.queue: asyncio.Queue[pb.Event] = asyncio.Queue(size)
        self.overflowed = False

    def offer(self, event: pb.Event) -> None:
        """Queue the event if this stream follows its trajectory."""
        if self.trajectory_id is None:
            # The list shows runs, not verdicts; a backfill's burst must not overflow it.
            if body_kind(event) not in LOG_KINDS:
                return
        elif self.trajectory_id != event.trajectory_id:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # The client is too slow; it reconnects and reloads instead of stalling the hub.
            self.overflowed = True


class LiveLog:
    """Folds live events into the states of running trajectories and fans them out."""

    def __init__(
        self,
        archive: EventArchive,
        rules: DriftRules,
        clock: Clock = lambda: datetime.now(UTC),
        stream_size: int = 1000,
    ) -> None:
        self._archive = archive
        self._rules = rules
        self._clock = clock
        self._stream_size = stream_size
        self._states: dict[str, Trajectory] = {}
        self._reasons: dict[str, list[str]] = {}
        # When each flagged trajectory was flagged, until a human answers or the flag clears.
        self._flagged_at: dict[str, datetime] = {}
        self._early: dict[str, list[pb.Event]] = {}
        self._loading: dict[str, asyncio.Task[Trajectory | None]] = {}
        self._streams: set[LiveStream] = set()

    async def load_running(self, limit: int = 1000) -> None:
        """Load the running trajectories from the archive, so drift covers them from the start."""
        for row in await self._archive.trajectories(limit=limit, status="running"):
            await self.state(row.trajectory_id)

    async def on_event(self, event: pb.Event) -> None:
        """Take one live event: update its trajectory's state, then offer it to every stream."""
        # Verdicts and labels change no state, so they load no trajectory (a backfill
        # judges many ended ones).
        if body_kind(event) in LOG_KINDS:
            self._fold(event)
        for stream in list(self._streams):
            stream.offer(event)

    def _fold(self, event: pb.Event) -> None:
        tid = event.trajectory_id
        if tid in self._states:
            self._keep(apply(self._states[tid], event))
        elif tid:
            early = self._early.setdefault(tid, [])
            early.append(event)
            del early[:-_EARLY_LIMIT]
            if tid not in self._loading:
                self._loading[tid] = asyncio.create_task(self._load(tid))

    async def state(self, trajectory_id: str) -> Trajectory | None:
        """The trajectory's state from the archive and the live log; None if neither knows it."""
        if trajectory_id in self._states:
            return self._states[trajectory_id]
        task = self._loading.get(trajectory_id)
        if task is None:
            task = self._loading[trajectory_id] = asyncio.create_task(self._load(trajectory_id))
        return await asyncio.shield(task)

    def reasons(self, trajectory_id: str) -> list[str]:
        """Why a loaded running trajectory needs attention ([] when it does not)."""
        return list(self._reasons.get(trajectory_id, ()))

    def answer_flag(self, trajectory_id: str) -> float | None:
        """Seconds since the trajectory was flagged for attention, if it is and no guidance
        answered the flag yet; it counts as answered from now on."""
        flagged_at = self._flagged_at.pop(trajectory_id, None)
        return None if flagged_at is None else (self._clock() - flagged_at).total_seconds()

    def refresh(self) -> None:
        """Re-evaluate the drift signals that depend on the clock (stalls, time budgets)."""
        for state in list(self._states.values()):
            self._keep(state)

    @contextmanager
    def stream(self, trajectory_id: str | None) -> Iterator[LiveStream]:
        """A stream of live events of one trajectory (or of all, with None) while inside."""
        stream = LiveStream(trajectory_id, self._stream_size)
        self._streams.add(stream)
        try:
            yield stream
        finally:
            self._streams.discard(stream)

    async def _load(self, trajectory_id: str) -> Trajectory | None:
        try:
            archived = [record.event for record in await self._archive.events(trajectory_id)]
            # Live events that arrived while the archive was read are folded in too (dedup by id).
            events = archived + self._early.pop(trajectory_id, [])
            if not events:
                return None
            state = fold(events, trajectory_id)
            self._keep(state)
            return state
        finally:
            self._loading.pop(trajectory_id, None)

    def _keep(self, state: Trajectory) -> None:
        tid = state.trajectory_id
        if state.is_over:
            # An ended trajectory needs no human; its history is read from the archive.
            self._states.pop(tid, None)
            self._reasons.pop(tid, None)
            self._flagged_at.pop(tid, None)
        else:
            self._states[tid] = state
            reasons = attention_reasons(state, self._clock(), self._rules)
            if not reasons:
                self._flagged_at.pop(tid, None)
            elif not self._reasons.get(tid):
                self._flagged_at[tid] = self._clock()
            self._reasons[tid] = reasons
        metrics.NEEDING_ATTENTION.set(sum(1 for reasons in self._reasons.values() if reasons))
