"""Which events a consumer has handled: what makes an at-least-once handler idempotent."""

from __future__ import annotations

from typing import Protocol


class ProcessedEvents(Protocol):
    """A consumer's record of handled event ids; mark only after the handler succeeded."""

    async def seen(self, consumer: str, event_id: str) -> bool:
        """Whether `consumer` already handled `event_id`."""

    async def mark(self, consumer: str, event_id: str) -> None:
        """Record that `consumer` handled `event_id` (marking twice is harmless)."""


class InMemoryProcessedEvents:
    """Handled ids in a set: unbounded, and forgotten when the process ends."""

    def __init__(self) -> None:
        # Unbounded on purpose: an id dropped early would let a redelivery through. Use it in
        # tests and short-lived processes; anything that must survive restarts uses Postgres.
        self._handled: set[tuple[str, str]] = set()

    async def seen(self, consumer: str, event_id: str) -> bool:
        """Whether `consumer` already handled `event_id`."""
        return (consumer, event_id) in self._handled

    async def mark(self, consumer: str, event_id: str) -> None:
        """Record that `consumer` handled `event_id` (marking twice is harmless)."""
        self._handled.add((consumer, event_id))
