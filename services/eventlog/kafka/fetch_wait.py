"""Adaptive fetch wait: a consumer polls fast right after activity and slowly once quiet.

Each fetch a consumer sends costs the broker and the consumer a little CPU, and Tansu
answers an empty fetch when its wait runs out, so a 5 ms wait means some 150 fetches a
second per consumer even with nothing to read (an idle embedded stack used half a core on
that alone). A consumer that just read something is likely to read more soon (the next
step of a trajectory is a hop away), so it keeps the short wait while messages flow and
for `quiet_after_s` after the last one. Then it falls back to `standby_wait_ms` while a
trajectory it has read is still running, if it is a standby consumer (one on the path of
guidance into the next prompt: an agent sleeping or waiting on a long command is quiet, and
guidance may arrive at any moment), and to `idle_wait_ms` once none is. A consumer that
has read nothing for `dormant_after_s` and knows of no running trajectory polls at
`dormant_wait_ms`: a stack left idle for hours costs little, while the gaps inside a job
(a model thinking, a training run between two trajectories) keep the idle wait.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from apollo.v1 import events_pb2 as pb
from services.trajectory.fold import LOG_KINDS

# What a trajectory's run is made of; its end stops it counting as running.
_RUNNING_KINDS = LOG_KINDS - {"trajectory_ended"}


class FetchPacingSettings(BaseSettings):
    """How every bus consumer and log reader paces its fetches (APOLLO_BUS_*)."""

    model_config = SettingsConfigDict(env_prefix="APOLLO_BUS_", extra="ignore")

    idle_fetch_wait_ms: int = Field(
        300,
        ge=1,
        description="fetch wait of a consumer that has read nothing for quiet_after_s and "
        "knows of no running trajectory; a consumer configured with a longer wait keeps its own",
    )
    standby_fetch_wait_ms: int = Field(
        25,
        ge=1,
        description="fetch wait of a quiet standby consumer (the sandbox's and the policy's, "
        "on the path of guidance) while a trajectory it has read is running",
    )
    dormant_fetch_wait_ms: int = Field(
        1000,
        ge=1,
        description="fetch wait of a consumer that has read nothing for dormant_after_s and "
        "knows of no running trajectory; a consumer configured with a longer wait keeps its own",
    )
    quiet_after_s: float = Field(
        2.0,
        ge=0,
        description="seconds without a message after which a consumer polls at the standby "
        "or idle wait",
    )
    dormant_after_s: float = Field(
        30.0,
        ge=0,
        description="seconds without a message after which a consumer that knows of no "
        "running trajectory polls at the dormant wait",
    )
    running_silence_s: float = Field(
        3600.0,
        gt=0,
        description="a trajectory with no event for this long stops counting as running "
        "(one that crashed and never ended must not keep consumers polling fast)",
    )


@dataclass
class FetchPacing:
    """The fetch wait to use now, from when the consumer last read something (pure)."""

    active_wait_ms: int
    standby_wait_ms: int
    idle_wait_ms: int
    quiet_after_s: float
    dormant_wait_ms: int
    dormant_after_s: float
    last_activity: float = -math.inf

    def note_activity(self, now: float) -> None:
        """Messages arrived (or the consumer was just placed): poll fast from now."""
        self.last_activity = now

    def wait_ms(self, now: float, running: bool) -> int:
        """The short wait within `quiet_after_s` of activity; after it, the standby wait
        while a trajectory is `running`, else the idle wait, and the dormant wait once
        `dormant_after_s` have passed."""
        quiet_for = now - self.last_activity
        if quiet_for < self.quiet_after_s:
            return self.active_wait_ms
        if running:
            wait = self.standby_wait_ms
        elif quiet_for < self.dormant_after_s:
            wait = self.idle_wait_ms
        else:
            wait = self.dormant_wait_ms
        return max(self.active_wait_ms, wait)

    def quiet_in_s(self, now: float) -> float | None:
        """Seconds until the wait falls back from the short one; None when it already has."""
        return _until(self.last_activity + self.quiet_after_s, now)

    def change_in_s(self, now: float, running: bool) -> float | None:
        """Seconds until the wait changes with no message and no change in `running`; None
        when it never does."""
        quiet = self.quiet_in_s(now)
        if quiet is not None or running:
            return quiet
        return _until(self.last_activity + self.dormant_after_s, now)


def _until(deadline: float, now: float) -> float | None:
    remaining = deadline - now
    return remaining if remaining > 0 else None


@dataclass
class RunningTrajectories:
    """The trajectories a consumer has seen run and not end, each until `silence_s` without
    an event of it (pure; holds only the running ones)."""

    silence_s: float
    # Trajectory id → when its last event was read, oldest first.
    _last_seen: dict[str, float] = field(default_factory=dict)

    def note(self, event: pb.Event, now: float) -> None:
        """Count the event: a step of a run keeps its trajectory running, its end stops it."""
        kind = event.WhichOneof("body")
        if kind in _RUNNING_KINDS or kind == "trajectory_ended":
            # Moved to the end, so the dict stays ordered by when each was last seen.
            self._last_seen.pop(event.trajectory_id, None)
        if kind in _RUNNING_KINDS:
            self._last_seen[event.trajectory_id] = now

    def any(self, now: float) -> bool:
        """Whether some trajectory is still running (forgetting the silent ones)."""
        while self._last_seen:
            oldest = next(iter(self._last_seen))
            if now - self._last_seen[oldest] < self.silence_s:
                return True
            del self._last_seen[oldest]
        return False

    def silent_in_s(self, now: float) -> float | None:
        """Seconds until every running trajectory has been silent for `silence_s`; None
        when none is running."""
        if not self.any(now):
            return None
        return next(reversed(self._last_seen.values())) + self.silence_s - now


def set_fetch_wait(consumer: AIOKafkaConsumer, wait_ms: int) -> None:
    """Make the consumer's next fetch requests ask the broker to wait `wait_ms` at most."""
    # aiokafka has no public way to change the wait of a running consumer; its fetcher
    # reads this attribute each time it builds a FetchRequest. The test of this module
    # fails if aiokafka renames it, rather than the pacing silently doing nothing.
    fetcher = getattr(consumer, "_fetcher", None)
    if fetcher is not None:
        fetcher._fetch_max_wait_ms = wait_ms


@dataclass
class PacedFetchWait:
    """Applies a `FetchPacing` to whichever consumer `consumer()` returns (it may change);
    `running` is None for a consumer that never stands by (it has no use for what runs)."""

    pacing: FetchPacing
    running: RunningTrajectories | None
    consumer: Callable[[], AIOKafkaConsumer | None]
    clock: Callable[[], float] = field(default=lambda: asyncio.get_running_loop().time())
    _timer: asyncio.TimerHandle | None = field(default=None, init=False, repr=False)
    _due: float = field(default=math.inf, init=False, repr=False)

    @classmethod
    def for_wait(
        cls,
        active_wait_ms: int,
        consumer: Callable[[], AIOKafkaConsumer | None],
        settings: FetchPacingSettings | None = None,
        standby: bool = False,
    ) -> PacedFetchWait:
        """Pacing between `active_wait_ms` and the configured idle wait, by way of the
        standby wait while a trajectory runs only if `standby` (each standby consumer costs
        the broker and itself a few percent of a core while a trajectory sleeps)."""
        chosen = settings or FetchPacingSettings()
        pacing = FetchPacing(
            active_wait_ms,
            chosen.standby_fetch_wait_ms if standby else chosen.idle_fetch_wait_ms,
            chosen.idle_fetch_wait_ms,
            chosen.quiet_after_s,
            chosen.dormant_fetch_wait_ms,
            chosen.dormant_after_s,
        )
        running = RunningTrajectories(chosen.running_silence_s) if standby else None
        return cls(pacing, running, consumer)

    def activity(self) -> None:
        """Messages arrived: poll fast, and slower once quiet again."""
        now = self.clock()
        self.pacing.note_activity(now)
        self._apply(now)
        if self._timer is not None and self._due > now + self.pacing.quiet_after_s:
            # A standby timer (due when the running ones fall silent) would come too late.
            self._timer.cancel()
            self._timer = None
        if self._timer is None:
            self._schedule(now)

    def saw(self, event: pb.Event) -> None:
        """A decoded event: whether it runs or ends a trajectory sets the pace once quiet."""
        if self.running is not None:
            self.running.note(event, self.clock())

    def _schedule(self, now: float) -> None:
        # The next change: the end of the quiet period, else the last running one's silence,
        # else the fall to the dormant wait.
        running = self._running(now)
        delay = self.pacing.change_in_s(now, running)
        if delay is None and running and self.running is not None:
            delay = self.running.silent_in_s(now)
        if delay is not None:
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)
            self._due = now + delay

    def _on_timer(self) -> None:
        # Activity since the timer was set only moved the deadline: wait for the new one.
        self._timer = None
        now = self.clock()
        self._apply(now)
        self._schedule(now)

    def _apply(self, now: float) -> None:
        # Set each time, not only on change: a restarted consumer starts at its own wait.
        consumer = self.consumer()
        if consumer is not None:
            set_fetch_wait(consumer, self.pacing.wait_ms(now, self._running(now)))

    def _running(self, now: float) -> bool:
        return self.running is not None and self.running.any(now)
