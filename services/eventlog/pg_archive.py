"""The archive in Postgres: one transaction per append for events, read models and offsets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from typing import Self

import asyncpg

from apollo.v1 import deadletter_pb2
from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import (
    ArchivedEvent,
    GroupOffsets,
    PartitionOffsets,
    TrajectoryRow,
    check_status,
    encode_append,
    end_status,
    final_score,
    in_read_model,
    occurred_at,
)
from services.eventlog.pg_verdicts import PgVerdictReadModel
from services.eventlog.postgres import create_pool, migrate, packaged_schema
from services.eventlog.topics import TRAJECTORIES
from services.eventlog.verdict_model import verdict_row

SCHEMA = packaged_schema("services.eventlog", "archive_schema.sql")

# Positions must follow commit order (see archive_schema.sql), so appends take turns.
_APPEND_LOCK = "SELECT pg_advisory_xact_lock(hashtext('apollo.archive.append'))"

# An append's rows go in by binary COPY into a per-session staging table (emptied at commit),
# the first of each event_id only; then one statement does the whole append: the events, then
# the read models (trajectory rows and verdict rows) from only the rows really inserted (so
# redelivery changes nothing), then the offsets.
_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS append_stage (
    ord integer, event_id text, trajectory_id text, topic text, kind text,
    occurred_at timestamptz, payload bytea, tracked boolean, task_id text, end_status text,
    final_score float8, action_id text, ruleset_version text, step_index integer,
    verdict text, rule_ids text[]
) ON COMMIT DELETE ROWS
"""
_STAGE_COLUMNS = (
    "ord", "event_id", "trajectory_id", "topic", "kind", "occurred_at", "payload", "tracked",
    "task_id", "end_status", "final_score", "action_id", "ruleset_version", "step_index",
    "verdict", "rule_ids",
)  # fmt: skip
_APPEND = """
WITH inserted AS (
    INSERT INTO events (event_id, trajectory_id, topic, kind, occurred_at, payload)
    SELECT event_id, trajectory_id, topic, kind, occurred_at, payload
    FROM append_stage ORDER BY ord
    ON CONFLICT (event_id) DO NOTHING
    RETURNING position, event_id
), fresh AS (
    SELECT staged.*, inserted.position FROM inserted JOIN append_stage AS staged USING (event_id)
    WHERE staged.tracked
), batch AS (
    SELECT trajectory_id,
        (array_agg(task_id ORDER BY position)
            FILTER (WHERE kind = 'trajectory_started'))[1] AS task_id,
        (array_agg(occurred_at ORDER BY position)
            FILTER (WHERE kind = 'trajectory_started'))[1] AS started_at,
        (array_agg(end_status ORDER BY position DESC)
            FILTER (WHERE end_status IS NOT NULL))[1] AS end_status,
        (array_agg(occurred_at ORDER BY position DESC)
            FILTER (WHERE end_status IS NOT NULL))[1] AS ended_at,
        (array_agg(final_score ORDER BY position DESC)
            FILTER (WHERE end_status IS NOT NULL))[1] AS final_score,
        bool_or(kind = 'trajectory_cancelled') AS cancelled,
        count(*) FILTER (WHERE kind = 'action_proposed') AS steps,
        count(*) FILTER (WHERE kind = 'guidance_submitted') AS guidance_count,
        max(occurred_at) AS last_activity_at
    FROM fresh GROUP BY trajectory_id
), upserted AS (
    INSERT INTO trajectories AS t (trajectory_id, task_id, status, steps, guidance_count,
                                   started_at, ended_at, last_activity_at, final_score)
    SELECT trajectory_id, coalesce(task_id, ''),
        coalesce(end_status, CASE WHEN cancelled THEN 'cancelled' ELSE 'running' END),
        steps, guidance_count, started_at, ended_at, last_activity_at, final_score
    FROM batch
    ON CONFLICT (trajectory_id) DO UPDATE SET
        task_id = CASE WHEN t.started_at IS NULL THEN EXCLUDED.task_id ELSE t.task_id END,
        started_at = coalesce(t.started_at, EXCLUDED.started_at),
        -- An end in this batch wins; else an earlier end stays; else a cancel request counts.
        status = CASE
            WHEN EXCLUDED.ended_at IS NOT NULL THEN EXCLUDED.status
            WHEN t.ended_at IS NOT NULL THEN t.status
            WHEN EXCLUDED.status = 'cancelled' THEN 'cancelled'
            ELSE t.status END,
        final_score = CASE WHEN EXCLUDED.ended_at IS NOT NULL
            THEN EXCLUDED.final_score ELSE t.final_score END,
        ended_at = coalesce(EXCLUDED.ended_at, t.ended_at),
        steps = t.steps + EXCLUDED.steps,
        guidance_count = t.guidance_count + EXCLUDED.guidance_count,
        last_activity_at = greatest(t.last_activity_at, EXCLUDED.last_activity_at)
), judged AS (
    INSERT INTO verdicts (action_id, ruleset_version, trajectory_id, step_index, verdict,
                          rule_ids, position)
    -- The first verdict of an (action, version) in position order wins, as in memory.
    SELECT DISTINCT ON (action_id, ruleset_version) action_id, ruleset_version, trajectory_id,
        step_index, verdict, rule_ids, inserted.position
    FROM inserted JOIN append_stage AS staged USING (event_id)
    WHERE staged.action_id IS NOT NULL
    ORDER BY action_id, ruleset_version, inserted.position
    ON CONFLICT (action_id, ruleset_version) DO NOTHING
), offsets AS (
    INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[])
    ON CONFLICT (consumer_group, topic, partition)
    DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
)
SELECT count(*) FROM inserted
"""

# Input order decides which of two letters for one message is kept, and the listing order.
_APPEND_DEAD_LETTERS = """
WITH inserted AS (
    INSERT INTO dead_letters (topic, partition, "offset", error_class, consumer_group,
                              dead_lettered_at, record)
    SELECT topic, partition, "offset", error_class, consumer_group, dead_lettered_at, record
    FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[],
                $6::timestamptz[], $7::bytea[])
        WITH ORDINALITY AS i(topic, partition, "offset", error_class, consumer_group,
                             dead_lettered_at, record, ord)
    ORDER BY ord
    ON CONFLICT (topic, partition, "offset") DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM inserted
"""

_RECORD_COLUMNS = "position, topic, payload"
_ROW_COLUMNS = (
    "trajectory_id, task_id, status, steps, guidance_count, started_at, ended_at, "
    "last_activity_at, final_score"
)


async def migrate_archive(pool: asyncpg.Pool) -> None:
    """Apply archive_schema.sql (idempotent), one process at a time."""
    await migrate(pool, SCHEMA, "apollo.archive.migrate")


_NOT_A_VERDICT = (None,) * 5


def _staged(encoded: list[tuple[str, bytes, pb.Event]]) -> list[tuple]:
    """The staging rows of an append, the first of each event_id only, in input order."""
    rows: dict[str, tuple] = {}
    for topic, raw, event in encoded:
        if event.event_id in rows:
            continue
        kind = event.WhichOneof("body")
        verdict = verdict_row(event, 0)
        rows[event.event_id] = (
            len(rows),
            event.event_id,
            event.trajectory_id,
            topic,
            kind,
            occurred_at(event),
            raw,
            in_read_model(event),
            event.trajectory_started.task_id if kind == "trajectory_started" else None,
            end_status(event),
            final_score(event) if kind == "trajectory_ended" else None,
            *(
                _NOT_A_VERDICT
                if verdict is None
                else (
                    verdict.action_id,
                    verdict.ruleset_version,
                    verdict.step_index,
                    verdict.verdict,
                    list(verdict.rule_ids),
                )
            ),
        )
    return list(rows.values())


def _record(row: asyncpg.Record) -> ArchivedEvent:
    return ArchivedEvent.of(row["topic"], row["payload"], row["position"])


class ArchiveSchemaAdapter:
    """An adapter on its own pool over tables of archive_schema.sql: open, migrate, close."""

    POOL_SIZE = 4

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str, max_size: int | None = None) -> Self:
        """Open a pool to `dsn` (of `POOL_SIZE` connections unless `max_size`)."""
        return cls(await create_pool(dsn, max_size or cls.POOL_SIZE))

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()

    async def migrate(self) -> None:
        """Create what is missing; safe to run on every start."""
        await migrate_archive(self._pool)


class PgArchive(PgVerdictReadModel, ArchiveSchemaAdapter):
    """The archive in Postgres (asyncpg pool); the durable copy of every topic."""

    async def append(
        self, events_with_topic: Iterable[tuple[str, pb.Event]], offsets: GroupOffsets | None = None
    ) -> int:
        """Archive new events in input order with the consumer offsets; return how many were new."""
        encoded, checked = encode_append(events_with_topic, offsets)
        if not encoded and not checked:
            return 0
        keys = list(checked)
        offset_columns = (
            [g for g, _, _ in keys],
            [t for _, t, _ in keys],
            [p for _, _, p in keys],
            [checked[k] for k in keys],
        )
        async with self._pool.acquire() as connection, connection.transaction():
            # Staged before the lock: the table is this session's, so other appends need not wait.
            await connection.execute(_STAGE)
            await connection.copy_records_to_table(
                "append_stage", records=_staged(encoded), columns=_STAGE_COLUMNS
            )
            await connection.execute(_APPEND_LOCK)
            return await connection.fetchval(_APPEND, *offset_columns)

    async def load_offsets(self, group: str) -> dict[tuple[str, int], int]:
        """The stored next offsets of a consumer group."""
        rows = await self._pool.fetch(
            "SELECT topic, partition, next_offset FROM consumer_offsets WHERE consumer_group = $1",
            group,
        )
        return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}

    async def reset_offsets(self, group: str, offsets: PartitionOffsets) -> None:
        """Replace every stored offset of a group (after a rehydrate, for example)."""
        rows = [(group, topic, partition, offset) for (topic, partition), offset in offsets.items()]
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "DELETE FROM consumer_offsets WHERE consumer_group = $1", group
            )
            await connection.executemany(
                "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)"
                " VALUES ($1, $2, $3, $4)",
                rows,
            )

    async def events(self, trajectory_id: str) -> list[ArchivedEvent]:
        """One trajectory's events in log order."""
        rows = await self._pool.fetch(
            f"SELECT {_RECORD_COLUMNS} FROM events WHERE trajectory_id = $1 ORDER BY position",
            trajectory_id,
        )
        return [_record(row) for row in rows]

    async def iter_all(
        self, after_position: int = 0, batch: int = 1000
    ) -> AsyncIterator[ArchivedEvent]:
        """Every event after `after_position` in position order, read `batch` at a time."""
        while True:
            # Keyset pages: no connection or transaction is held while the caller works.
            rows = await self._pool.fetch(
                f"SELECT {_RECORD_COLUMNS} FROM events WHERE position > $1"
                " ORDER BY position LIMIT $2",
                after_position,
                batch,
            )
            for row in rows:
                yield _record(row)
            if len(rows) < batch:
                return
            after_position = rows[-1]["position"]

    async def last_position(self) -> int:
        """The position of the latest archived event; 0 while the archive is empty."""
        return await self._pool.fetchval("SELECT coalesce(max(position), 0) FROM events")

    async def starts(self, trajectory_ids: Sequence[str]) -> dict[str, ArchivedEvent]:
        """The trajectory_started event of each of these trajectories that has one."""
        # A trajectory's first event is its start: each lookup reads one index entry or two.
        rows = await self._pool.fetch(
            f"SELECT wanted.trajectory_id, {_RECORD_COLUMNS}"
            " FROM unnest($1::text[]) AS wanted(trajectory_id), LATERAL ("
            f"  SELECT {_RECORD_COLUMNS} FROM events"
            "   WHERE events.trajectory_id = wanted.trajectory_id AND kind = 'trajectory_started'"
            "   ORDER BY position LIMIT 1) AS started",
            sorted(set(trajectory_ids)),
        )
        return {row["trajectory_id"]: _record(row) for row in rows}

    async def logs(self, trajectory_ids: Sequence[str]) -> dict[str, list[ArchivedEvent]]:
        """The trajectory-log events of each of these trajectories (if any), in log order."""
        rows = await self._pool.fetch(
            f"SELECT trajectory_id, {_RECORD_COLUMNS} FROM events"
            " WHERE trajectory_id = ANY($1::text[]) AND topic = $2"
            " ORDER BY trajectory_id, position",
            list(trajectory_ids),
            TRAJECTORIES.name,
        )
        found: dict[str, list[ArchivedEvent]] = {}
        for row in rows:
            found.setdefault(row["trajectory_id"], []).append(_record(row))
        return found

    async def select_trajectories(
        self, task_id: str | None = None, since: datetime | None = None
    ) -> list[str]:
        """Ids of the trajectories of a task, started (or, unstarted, active) since a time."""
        rows = await self._pool.fetch(
            "SELECT trajectory_id FROM trajectories"
            " WHERE ($1::text IS NULL OR task_id = $1)"
            " AND ($2::timestamptz IS NULL OR coalesce(started_at, last_activity_at) >= $2)"
            " ORDER BY trajectory_id",
            task_id,
            since,
        )
        return [row["trajectory_id"] for row in rows]

    async def has(self, event_ids: Iterable[str]) -> set[str]:
        """The subset of `event_ids` already archived."""
        rows = await self._pool.fetch(
            "SELECT event_id FROM events WHERE event_id = ANY($1::text[])", list(event_ids)
        )
        return {row["event_id"] for row in rows}

    async def count(self) -> int:
        """How many events are archived."""
        return await self._pool.fetchval("SELECT count(*) FROM events")

    async def trajectories(self, limit: int = 50, status: str | None = None) -> list[TrajectoryRow]:
        """Trajectory rows, most recent activity first."""
        check_status(status)
        rows = await self._pool.fetch(
            f"SELECT {_ROW_COLUMNS} FROM trajectories WHERE $1::text IS NULL OR status = $1"
            " ORDER BY last_activity_at DESC, trajectory_id LIMIT $2",
            status,
            limit,
        )
        return [TrajectoryRow(**row) for row in rows]

    async def trajectory(self, trajectory_id: str) -> TrajectoryRow | None:
        """One trajectory row, or None when the archive has no event of it."""
        row = await self._pool.fetchrow(
            f"SELECT {_ROW_COLUMNS} FROM trajectories WHERE trajectory_id = $1", trajectory_id
        )
        return None if row is None else TrajectoryRow(**row)

    async def append_dead_letters(self, records: Iterable[deadletter_pb2.DeadLetter]) -> int:
        """Archive each original message's dead letter once; return how many were new."""
        rows = [
            (
                r.topic,
                r.partition,
                r.offset,
                r.error_class,
                r.consumer_group,
                r.dead_lettered_at.ToDatetime(tzinfo=UTC)
                if r.HasField("dead_lettered_at")
                else None,
                r.SerializeToString(deterministic=True),
            )
            for r in records
        ]
        if not rows:
            return 0
        columns = [list(column) for column in zip(*rows, strict=True)]
        return await self._pool.fetchval(_APPEND_DEAD_LETTERS, *columns)

    async def dead_letters(self, limit: int = 50) -> list[deadletter_pb2.DeadLetter]:
        """The most recently archived dead letters first."""
        rows = await self._pool.fetch(
            "SELECT record FROM dead_letters ORDER BY id DESC LIMIT $1", limit
        )
        return [deadletter_pb2.DeadLetter.FromString(row["record"]) for row in rows]
