"""The gateway's Postgres adapters: `PgUserStore` and `PgAttentionLedger`."""

from __future__ import annotations

import asyncpg

from services.eventlog.postgres import create_pool, migrate, packaged_schema
from services.gateway.attention import AttentionTotal
from services.gateway.users import DuplicateUser, Role, User, check_name, new_token, token_hash

SCHEMA = packaged_schema("services.gateway", "gateway_schema.sql")


async def migrate_gateway_schema(pool: asyncpg.Pool) -> None:
    """Apply gateway_schema.sql (idempotent), one process at a time."""
    await migrate(pool, SCHEMA, "apollo.gateway.migrate")


def _user(row: asyncpg.Record) -> User:
    return User(row["name"], Role(row["role"]), row["created_at"])


class PgUserStore:
    """Users in Postgres; the pool is shared and closed by its owner unless `owns_pool`."""

    def __init__(self, pool: asyncpg.Pool, *, owns_pool: bool = False) -> None:
        self._pool = pool
        self._owns_pool = owns_pool

    @classmethod
    async def connect(cls, dsn: str) -> PgUserStore:
        """A store with its own small pool."""
        return cls(await create_pool(dsn, max_size=2), owns_pool=True)

    async def migrate(self) -> None:
        """Create what is missing; safe to run on every start."""
        await migrate_gateway_schema(self._pool)

    async def close(self) -> None:
        """Close the pool if this store opened it."""
        if self._owns_pool:
            await self._pool.close()

    async def add(self, name: str, role: Role) -> tuple[User, str]:
        """Create a user; return it and its token (shown once, never stored)."""
        check_name(name)
        token = new_token()
        try:
            row = await self._pool.fetchrow(
                "INSERT INTO users (name, role, token_hash) VALUES ($1, $2, $3)"
                " RETURNING name, role, created_at",
                name,
                Role(role).value,
                token_hash(token),
            )
        except asyncpg.UniqueViolationError:
            raise DuplicateUser(f"user {name!r} exists already") from None
        return _user(row), token

    async def by_token(self, token: str) -> User | None:
        """The user a token belongs to, or None."""
        row = await self._pool.fetchrow(
            "SELECT name, role, created_at FROM users WHERE token_hash = $1", token_hash(token)
        )
        return None if row is None else _user(row)

    async def users(self) -> list[User]:
        """Every user, by name."""
        rows = await self._pool.fetch("SELECT name, role, created_at FROM users ORDER BY name")
        return [_user(row) for row in rows]

    async def revoke(self, name: str) -> bool:
        """Remove the user, so its token no longer works; whether there was one."""
        return await self._pool.execute("DELETE FROM users WHERE name = $1", name) != "DELETE 0"


class PgAttentionLedger:
    """Attention totals in Postgres, one row per (annotator, trajectory)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, annotator: str, trajectory_id: str, seconds: float) -> None:
        """Add seconds to the annotator's total on the trajectory."""
        await self._pool.execute(
            "INSERT INTO attention (annotator, trajectory_id, seconds) VALUES ($1, $2, $3)"
            " ON CONFLICT (annotator, trajectory_id) DO UPDATE"
            " SET seconds = attention.seconds + EXCLUDED.seconds, updated_at = now()",
            annotator,
            trajectory_id,
            seconds,
        )

    async def totals(self) -> list[AttentionTotal]:
        """Every total, by annotator then trajectory."""
        rows = await self._pool.fetch(
            "SELECT annotator, trajectory_id, seconds FROM attention"
            " ORDER BY annotator, trajectory_id"
        )
        return [AttentionTotal(r["annotator"], r["trajectory_id"], r["seconds"]) for r in rows]
