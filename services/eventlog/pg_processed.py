"""The consumers' record of handled event ids, in Postgres (`processed_events`)."""

from __future__ import annotations

from services.eventlog.pg_archive import ArchiveSchemaAdapter


class PgProcessedEvents(ArchiveSchemaAdapter):
    """Handled ids in Postgres (`processed_events`), kept across restarts."""

    POOL_SIZE = 2

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
