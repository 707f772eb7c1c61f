"""Which events a consumer has handled: what makes an at-least-once handler idempotent."""

from __future__ import annotations

from typing import Protocol

import asyncpg

from services.eventlog.pg_archive import create_pool, migrate_schema


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


class PgProcessedEvents:
    """Handled ids in Postgres, kept across restarts."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str, max_size: int = 2) -> PgProcessedEvents:
        """Open a pool to `dsn`."""
        return cls(await create_pool(dsn, max_size))

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()

    async def migrate(self) -> None:
        """Create the archive schema (which holds processed_events) if it is missing."""
        await migrate_schema(self._pool)

    async def seen(self, consumer: str, event_id: str) -> bool:
        """Whether `consumer` already handled `event_id`."""
        return await self._pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2)",
            consumer,
            event_id,
        )

    async def mark(self, consumer: str, event_id: str) -> None:
        """Record that `consumer` handled `event_id` (marking twice is harmless)."""
        await self._pool.execute(
            "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING",
            consumer,
            event_id,
        )
