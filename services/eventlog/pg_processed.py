"""The consumers' record of handled event ids, in Postgres (`processed_events`)."""

from __future__ import annotations

import asyncpg

from services.eventlog.pg_archive import migrate_archive
from services.eventlog.postgres import create_pool


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
        await migrate_archive(self._pool)

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
