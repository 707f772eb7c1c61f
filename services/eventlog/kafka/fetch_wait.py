"""Adaptive fetch wait: a consumer polls fast right after activity and slowly once quiet.

Each fetch a consumer sends costs the broker and the consumer a little CPU, and Tansu
answers an empty fetch when its wait runs out, so a 5 ms wait means some 150 fetches a
second per consumer even with nothing to read (an idle embedded stack used half a core on
that alone). A consumer that just read something is likely to read more soon (the next
step of a trajectory is a hop away), so it keeps the short wait while messages flow and
for `quiet_after_s` after the last one, then falls back to `idle_wait_ms`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FetchPacingSettings(BaseSettings):
    """How every bus consumer and log reader paces its fetches (APOLLO_BUS_*)."""

    model_config = SettingsConfigDict(env_prefix="APOLLO_BUS_", extra="ignore")

    idle_fetch_wait_ms: int = Field(
        300,
        ge=1,
        description="fetch wait of a consumer that has read nothing for quiet_after_s; "
        "a consumer configured with a longer wait keeps its own",
    )
    quiet_after_s: float = Field(
        2.0,
        ge=0,
        description="seconds without a message after which a consumer polls at the idle wait",
    )


@dataclass
class FetchPacing:
    """The fetch wait to use now, from when the consumer last read something (pure)."""

    active_wait_ms: int
    idle_wait_ms: int
    quiet_after_s: float
    last_activity: float = -math.inf

    def note_activity(self, now: float) -> None:
        """Messages arrived (or the consumer was just placed): poll fast from now."""
        self.last_activity = now

    def wait_ms(self, now: float) -> int:
        """The short wait within `quiet_after_s` of activity, the idle wait after it."""
        if now - self.last_activity < self.quiet_after_s:
            return self.active_wait_ms
        return max(self.active_wait_ms, self.idle_wait_ms)

    def quiet_in_s(self, now: float) -> float | None:
        """Seconds until the wait falls back to idle; None when it already has."""
        remaining = self.last_activity + self.quiet_after_s - now
        return remaining if remaining > 0 else None


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
    """Applies a `FetchPacing` to whichever consumer `consumer()` returns (it may change)."""

    pacing: FetchPacing
    consumer: Callable[[], AIOKafkaConsumer | None]
    clock: Callable[[], float] = field(default=lambda: asyncio.get_running_loop().time())
    _timer: asyncio.TimerHandle | None = field(default=None, init=False, repr=False)

    @classmethod
    def for_wait(
        cls,
        active_wait_ms: int,
        consumer: Callable[[], AIOKafkaConsumer | None],
        settings: FetchPacingSettings | None = None,
    ) -> PacedFetchWait:
        """Pacing between `active_wait_ms` and the configured idle wait."""
        chosen = settings or FetchPacingSettings()
        pacing = FetchPacing(active_wait_ms, chosen.idle_fetch_wait_ms, chosen.quiet_after_s)
        return cls(pacing, consumer)

    def activity(self) -> None:
        """Messages arrived: poll fast, and fall back to idle once quiet again."""
        now = self.clock()
        self.pacing.note_activity(now)
        self._apply(now)
        if self._timer is None:
            self._schedule(now)

    def _schedule(self, now: float) -> None:
        delay = self.pacing.quiet_in_s(now)
        if delay is not None:
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

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
            set_fetch_wait(consumer, self.pacing.wait_ms(now))
