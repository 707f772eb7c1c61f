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

# One statement does the whole append: the events, then the read models (trajectory rows and
# verdict rows) from only the rows really inserted (so redelivery changes nothing), then the
# offsets.
_APPEND = """
WITH input AS (
    SELECT DISTINCT ON (event_id) *
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                $6::bytea[], $7::bool[], $8::text[], $9::text[], $10::float8[],
                $15::text[], $16::text[], $17::int[], $18::text[], $19::text[])
        WITH ORDINALITY AS i(event_id, trajectory_id, topic, kind, occurred_at,
                             payload, tracked, task_id, end_status, final_score,
                             action_id, ruleset_version, step_index, verdict, rule_ids, ord)
    ORDER BY event_id, ord
), inserted AS (
    INSERT INTO events (event_id, trajectory_id, topic, kind, occurred_at, payload)
    SELECT event_id, trajectory_id, topic, kind, occurred_at, payload FROM input ORDER BY ord
    ON CONFLICT (event_id) DO NOTHING
    RETURNING position, event_id
), fresh AS (
    SELECT input.*, inserted.position FROM inserted JOIN input USING (event_id)
    WHERE input.tracked
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
        step_index, verdict, string_to_array(rule_ids, E'\\x1f'), inserted.position
    FROM inserted JOIN input USING (event_id)
    WHERE input.action_id IS NOT NULL
    ORDER BY action_id, ruleset_version, inserted.position
    ON CONFLICT (action_id, ruleset_version) DO NOTHING
), offsets AS (
    INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
    SELECT * FROM unnest($11::text[], $12::text[], $13::int[], $14::bigint[])
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

# A verdict-only append without offsets (what re-judging the archive writes) touches neither
# the trajectory list nor the offsets, so it takes a leaner path: its rows go in by binary
# COPY into a per-session staging table (emptied at commit), then one statement inserts the
# events and the read-model rows of those really inserted, as `_APPEND` does.
_VERDICT_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS verdict_stage (
    ord integer, event_id text, trajectory_id text, topic text, occurred_at timestamptz,
    payload bytea, action_id text, ruleset_version text, step_index integer, verdict text,
    rule_ids text[]
) ON COMMIT DELETE ROWS
"""
_VERDICT_STAGE_COLUMNS = (
    "ord", "event_id", "trajectory_id", "topic", "occurred_at", "payload", "action_id",
    "ruleset_version", "step_index", "verdict", "rule_ids",
)  # fmt: skip
_APPEND_STAGED_VERDICTS = """
WITH inserted AS (
    INSERT INTO events (event_id, trajectory_id, topic, kind, occurred_at, payload)
    SELECT event_id, trajectory_id, topic, 'action_judged', occurred_at, payload
    FROM verdict_stage ORDER BY ord
    ON CONFLICT (event_id) DO NOTHING
    RETURNING position, event_id
), judged AS (
    INSERT INTO verdicts (action_id, ruleset_version, trajectory_id, step_index, verdict,
                          rule_ids, position)
    -- The first verdict of an (action, version) in position order wins, as in memory.
    SELECT staged.action_id, staged.ruleset_version, staged.trajectory_id, staged.step_index,
        staged.verdict, staged.rule_ids, inserted.position
    FROM inserted JOIN verdict_stage AS staged USING (event_id)
    ORDER BY inserted.position
    ON CONFLICT (action_id, ruleset_version) DO NOTHING
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


def _columns(encoded: list[tuple[str, bytes, pb.Event]]) -> list[list]:
    """The events as the 10 column arrays `_APPEND` unnests."""
    rows = []
    for topic, raw, event in encoded:
        kind = event.WhichOneof("body")
        rows.append(
            (
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
            )
        )
    return _transposed(rows, 10)


# Rule ids travel as one string per verdict (unnest cannot take an array of arrays).
_RULE_ID_SEPARATOR = "\x1f"
_NOT_A_VERDICT = (None,) * 5


def _verdict_columns(encoded: list[tuple[str, bytes, pb.Event]]) -> list[list]:
    """The verdict read model's 5 column arrays; NULLs for events that are not verdicts."""
    rows = []
    for _, _, event in encoded:
        row = verdict_row(event, 0)
        rows.append(
            _NOT_A_VERDICT
            if row is None
            else (
                row.action_id,
                row.ruleset_version,
                row.step_index,
                row.verdict,
                _RULE_ID_SEPARATOR.join(row.rule_ids),
            )
        )
    return _transposed(rows, 5)


def _transposed(rows: list[tuple], width: int) -> list[list]:
    """Rows of `width` values as `width` column lists."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def _staged_verdicts(encoded: list[tuple[str, bytes, pb.Event]]) -> list[tuple] | None:
    """The staging rows of an append of ActionJudged events only (the first of each event_id,
    as `_APPEND` keeps it), in input order; None if any event is something else."""
    rows: dict[str, tuple] = {}
    for topic, raw, event in encoded:
        row = verdict_row(event, 0)
        if row is None:
            return None
        if event.event_id not in rows:
            rows[event.event_id] = (
                len(rows),
                event.event_id,
                event.trajectory_id,
                topic,
                occurred_at(event),
                raw,
                row.action_id,
                row.ruleset_version,
                row.step_index,
                row.verdict,
                list(row.rule_ids),
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
        staged = None if checked else _staged_verdicts(encoded)
        if staged is not None:
            return await self._append_verdicts(staged)
        keys = list(checked)
        offset_columns = (
            [g for g, _, _ in keys],
            [t for _, t, _ in keys],
            [p for _, _, p in keys],
            [checked[k] for k in keys],
        )
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(_APPEND_LOCK)
            return await connection.fetchval(
                _APPEND, *_columns(encoded), *offset_columns, *_verdict_columns(encoded)
            )

    async def _append_verdicts(self, staged: list[tuple]) -> int:
        async with self._pool.acquire() as connection, connection.transaction():
            # Staged before the lock: the table is this session's, so other appends need not wait.
            await connection.execute(_VERDICT_STAGE)
            await connection.copy_records_to_table(
                "verdict_stage", records=staged, columns=_VERDICT_STAGE_COLUMNS
            )
            await connection.execute(_APPEND_LOCK)
            return await connection.fetchval(_APPEND_STAGED_VERDICTS)

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
