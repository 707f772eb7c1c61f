"""Fixtures shared by every test: real Tansu brokers and a real Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from services.cli.stack.broker import TansuBroker
from services.cli.stack.postgres import EmbeddedPostgres


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    """A fresh, empty Tansu broker for one test (it starts in milliseconds)."""
    tansu = TansuBroker(log_path=tmp_path / "tansu.log").start()
    yield tansu
    tansu.stop()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """One embedded Postgres server for the whole run."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data").start()
    yield server
    server.stop()


@pytest.fixture
async def pg_dsn(postgres_server: EmbeddedPostgres) -> str:
    """A DSN to a brand-new database, so tests never see each other's rows."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return postgres_server.dsn.replace("@/postgres?", f"@/{name}?")
