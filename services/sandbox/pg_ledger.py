"""The execution ledger in Postgres, so a restarted service knows what already ran."""

from __future__ import annotations

import asyncpg

from services.eventlog.postgres import create_pool, migrate
from services.sandbox.ledger import ActionRecord, ActionState, TrajectoryRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS sandbox_actions (
    action_id     text PRIMARY KEY,
    trajectory_id text NOT NULL,
    step_index    integer NOT NULL,
    tool          text NOT NULL,
    state         text NOT NULL CHECK (state IN ('started', 'completed', 'published')),
    events        bytea[] NOT NULL DEFAULT '{}',
    eval_score    double precision,
    seq           bigserial
);
CREATE INDEX IF NOT EXISTS sandbox_actions_unfinished
    ON sandbox_actions (seq) WHERE state <> 'published';
CREATE TABLE IF NOT EXISTS sandbox_trajectories (
    trajectory_id text PRIMARY KEY,
    task_id       text NOT NULL,
    max_steps     integer NOT NULL,
    max_seconds   bigint NOT NULL,
    max_evals     integer NOT NULL,
    started_at    double precision NOT NULL,
    ended         boolean NOT NULL DEFAULT false
);
ALTER TABLE sandbox_trajectories ADD COLUMN IF NOT EXISTS task_seed bigint NOT NULL DEFAULT 0;
"""


def _action(row: asyncpg.Record) -> ActionRecord:
    return ActionRecord(
        action_id=row["action_id"],
        trajectory_id=row["trajectory_id"],
        step_index=row["step_index"],
        tool=row["tool"],
        state=ActionState(row["state"]),
        events=tuple(row["events"]),
        eval_score=row["eval_score"],
    )


class PgExecutionLedger:
    """Ledger rows in `sandbox_actions` and `sandbox_trajectories`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str, max_size: int = 4) -> PgExecutionLedger:
        """Open a pool and create the tables if missing."""
        pool = await create_pool(dsn, max_size)
        await migrate(pool, SCHEMA, "apollo.sandbox.migrate")
        return cls(pool)

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()

    async def start(self, record: ActionRecord) -> bool:
        """Record an action as started; False when the ledger already knows it."""
        status = await self._pool.execute(
            "INSERT INTO sandbox_actions (action_id, trajectory_id, step_index, tool, state)"
            " VALUES ($1, $2, $3, $4, 'started') ON CONFLICT DO NOTHING",
            record.action_id,
            record.trajectory_id,
            record.step_index,
            record.tool,
        )
        return status.endswith(" 1")

    async def get(self, action_id: str) -> ActionRecord | None:
        """The entry of an action, if any."""
        row = await self._pool.fetchrow(
            "SELECT * FROM sandbox_actions WHERE action_id = $1", action_id
        )
        return _action(row) if row else None

    async def complete(self, action_id: str, events: list[bytes], eval_score: float | None) -> None:
        """Store the action's events: it will never run again."""
        await self._pool.execute(
            "UPDATE sandbox_actions SET state = 'completed', events = $2, eval_score = $3"
            " WHERE action_id = $1",
            action_id,
            events,
            eval_score,
        )

    async def mark_published(self, action_id: str) -> None:
        """The action's events are on the bus."""
        await self._pool.execute(
            "UPDATE sandbox_actions SET state = 'published' WHERE action_id = $1", action_id
        )

    async def unfinished(self) -> list[ActionRecord]:
        """Actions started or completed but not published, oldest first."""
        rows = await self._pool.fetch(
            "SELECT * FROM sandbox_actions WHERE state <> 'published' ORDER BY seq"
        )
        return [_action(row) for row in rows]

    async def newest_published(self, limit: int) -> list[ActionRecord]:
        """The `limit` actions published last, oldest first."""
        rows = await self._pool.fetch(
            "SELECT * FROM (SELECT * FROM sandbox_actions WHERE state = 'published'"
            " ORDER BY seq DESC LIMIT $1) newest ORDER BY seq",
            limit,
        )
        return [_action(row) for row in rows]

    async def remember_trajectory(self, record: TrajectoryRecord) -> None:
        """Keep a trajectory's start (first write wins)."""
        await self._pool.execute(
            "INSERT INTO sandbox_trajectories (trajectory_id, task_id, max_steps, max_seconds,"
            " max_evals, started_at, ended, task_seed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT DO NOTHING",
            record.trajectory_id,
            record.task_id,
            record.max_steps,
            record.max_seconds,
            record.max_evals,
            record.started_at,
            record.ended,
            record.task_seed,
        )

    async def trajectory(self, trajectory_id: str) -> TrajectoryRecord | None:
        """A remembered trajectory."""
        row = await self._pool.fetchrow(
            "SELECT * FROM sandbox_trajectories WHERE trajectory_id = $1", trajectory_id
        )
        return TrajectoryRecord(**dict(row)) if row else None

    async def mark_ended(self, trajectory_id: str) -> None:
        """The trajectory is over."""
        await self._pool.execute(
            "UPDATE sandbox_trajectories SET ended = true WHERE trajectory_id = $1", trajectory_id
        )

    async def eval_scores(self, trajectory_id: str) -> list[float]:
        """Scores of the trajectory's completed agent-called evaluations."""
        rows = await self._pool.fetch(
            "SELECT eval_score FROM sandbox_actions WHERE trajectory_id = $1 AND tool = 'eval'"
            " AND eval_score IS NOT NULL ORDER BY seq",
            trajectory_id,
        )
        return [row["eval_score"] for row in rows]
