"""`apollo migrate`: apply every Postgres schema the services use, once, before they start."""

from __future__ import annotations

import asyncio

import typer

from services.cli.connection import connection_or_exit
from services.eventlog.pg_archive import PgArchive
from services.gateway.pg_store import PgUserStore
from services.judge.pg_llm_cache import PgLlmJudgementCache
from services.sandbox.pg_ledger import PgExecutionLedger


async def migrate_schemas(dsn: str) -> None:
    """Apply the archive's, the gateway's, the judge's and the sandbox's schemas; each is
    idempotent and applied under its own advisory lock."""
    for adapter in (PgArchive, PgUserStore, PgLlmJudgementCache):
        store = await adapter.connect(dsn)
        try:
            await store.migrate()
        finally:
            await store.close()
    # The sandbox's ledger applies its schema as it connects.
    await (await PgExecutionLedger.connect(dsn, max_size=1)).close()


def migrate() -> None:
    """Create what is missing of the archive and of every service's tables.

    Each service does this too as it starts; the Kubernetes Job apollo-migrate runs it once
    before a rollout, so that a failing migration shows in one place.
    """
    asyncio.run(migrate_schemas(connection_or_exit().postgres_dsn))
    typer.echo("migrated the archive, gateway, judge and sandbox schemas")
