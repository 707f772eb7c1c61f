"""Postgres plumbing every adapter shares: the pool and the schema migration."""

from __future__ import annotations

from importlib import resources

import asyncpg

# What a client meets while Postgres is down or restarting: refused or reset connections,
# timeouts, server errors, and a connection left mid-operation when the server went away.
POSTGRES_UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


async def create_pool(dsn: str, max_size: int = 4) -> asyncpg.Pool:
    """A small pool; each service holds one."""
    return await asyncpg.create_pool(dsn, min_size=1, max_size=max_size)


def packaged_schema(package: str, filename: str) -> str:
    """The SQL of a schema file shipped inside `package`."""
    return resources.files(package).joinpath(filename).read_text()


async def migrate(pool: asyncpg.Pool, schema: str, lock_name: str) -> None:
    """Apply an idempotent schema, one process at a time under the advisory lock `lock_name`."""
    # Services start together and CREATE ... IF NOT EXISTS races on the catalog.
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", lock_name)
        await connection.execute(schema)
