"""The judge-model answer cache in Postgres (`llm_judgements`, judge_schema.sql)."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from services.eventlog.postgres import create_pool, migrate, packaged_schema
from services.judge.llm_cache import JudgementKey

SCHEMA = packaged_schema("services.judge", "judge_schema.sql")


class PgLlmJudgementCache:
    """Judge-model answers in Postgres, shared by the live judge and re-judging runs."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str) -> PgLlmJudgementCache:
        """A cache on its own small pool."""
        return cls(await create_pool(dsn, max_size=2))

    async def migrate(self) -> None:
        """Apply judge_schema.sql (idempotent), one process at a time."""
        await migrate(self._pool, SCHEMA, "apollo.judge.migrate")

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()

    async def get(self, key: JudgementKey) -> str | None:
        """The answer stored under `key`, None if there is none."""
        return await self._pool.fetchval(
            "SELECT answer_json FROM llm_judgements WHERE prompt_digest = $1 AND judge_model = $2",
            key.prompt_digest,
            key.judge_model,
        )

    async def put(self, key: JudgementKey, answer_json: str) -> None:
        """Store an answer; a key stored already keeps its first answer."""
        await self._pool.execute(
            "INSERT INTO llm_judgements (prompt_digest, judge_model, answer_json)"
            " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            key.prompt_digest,
            key.judge_model,
            answer_json,
        )

    async def stored(self, keys: Iterable[JudgementKey]) -> set[JudgementKey]:
        """Which of `keys` have an answer, in one query."""
        keys = list(keys)
        rows = await self._pool.fetch(
            "SELECT prompt_digest, judge_model FROM llm_judgements"
            " WHERE (prompt_digest, judge_model) IN"
            " (SELECT * FROM unnest($1::text[], $2::text[]))",
            [key.prompt_digest for key in keys],
            [key.judge_model for key in keys],
        )
        return {JudgementKey(row["prompt_digest"], row["judge_model"]) for row in rows}
