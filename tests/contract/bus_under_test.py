"""What the bus contract's fixture hands each test."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.eventlog.bus import Bus
from services.eventlog.deadletter import DeadLetter


@dataclass
class BusUnderTest:
    """A started bus and a way to read what it dead-lettered."""

    bus: Bus
    dead_letters: Callable[[], Awaitable[list[DeadLetter]]]
