"""Fixtures shared by every test: real Tansu brokers and Postgres, and contract backends."""

from __future__ import annotations

import tempfile
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


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temporary directory other users may traverse.

    Embedded Postgres runs as its own user when we are root; pytest keeps its own
    temporary root private (and re-privatizes it whenever another pytest run starts).
    """
    with tempfile.TemporaryDirectory(prefix="apollo-test-") as path:
        yield Path(path)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """One embedded Postgres server for the whole run.

    Its data directory (a database per test) is left to pytest's temporary-directory
    rotation: deleting it at the end took over 10 s on a loaded machine, which pytest-timeout
    charges to whichever test happens to run last.
    """
    server = EmbeddedPostgres(tmp_path_factory.mktemp("apollo-pg") / "data").start()
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


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.integration),
    ]
)
def backend_dsn(request: pytest.FixtureRequest) -> str | None:
    """Run a storage contract twice: None for in-memory, else a fresh Postgres database's DSN."""
    return None if request.param == "memory" else request.getfixturevalue("pg_dsn")
