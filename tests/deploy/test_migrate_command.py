"""`apollo migrate` (the Kubernetes Job apollo-migrate) creates every table any service's
schema declares, and running it again changes nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import asyncpg
import pytest

from services.eventlog.pg_archive import SCHEMA as ARCHIVE_SCHEMA
from services.gateway.pg_store import SCHEMA as GATEWAY_SCHEMA
from services.judge.pg_llm_cache import SCHEMA as JUDGE_SCHEMA
from services.sandbox.pg_ledger import SCHEMA as SANDBOX_SCHEMA
from tests.deploy.k8s_objects import ROOT

pytestmark = pytest.mark.integration

DECLARED = {
    name
    for schema in (ARCHIVE_SCHEMA, GATEWAY_SCHEMA, JUDGE_SCHEMA, SANDBOX_SCHEMA)
    for name in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", schema)
}


def apollo_migrate(dsn: str) -> subprocess.CompletedProcess[str]:
    """The command the Job runs, with the two variables the Job sets."""
    env = {**os.environ, "APOLLO_POSTGRES_DSN": dsn, "APOLLO_KAFKA": "unused:9092"}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "migrate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def tables(dsn: str) -> set[str]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    return {row["table_name"] for row in rows}


async def test_migrate_creates_every_declared_table_and_is_idempotent(pg_dsn: str) -> None:
    assert len(DECLARED) >= 10, DECLARED
    first = apollo_migrate(pg_dsn)
    assert first.returncode == 0, first.stderr
    missing = DECLARED - await tables(pg_dsn)
    assert not missing, sorted(missing)
    again = apollo_migrate(pg_dsn)
    assert again.returncode == 0, again.stderr
    assert "migrated the archive, gateway, judge and sandbox schemas" in again.stdout
