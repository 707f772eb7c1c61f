"""Every SQL panel of the dashboards plans against a freshly migrated archive database."""

import asyncpg
import pytest

from services.eventlog.pg_archive import migrate_archive
from services.gateway.pg_store import migrate_gateway_schema
from tests.deploy.grafana_queries import sql_queries

pytestmark = pytest.mark.integration


async def test_every_sql_panel_plans(pg_dsn: str) -> None:
    queries = sql_queries()
    assert queries, "no SQL in the dashboards"
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=1)
    try:
        await migrate_archive(pool)
        await migrate_gateway_schema(pool)
        async with pool.acquire() as connection:
            for query in queries:
                await connection.execute(f"EXPLAIN {query}")
    finally:
        await pool.close()
