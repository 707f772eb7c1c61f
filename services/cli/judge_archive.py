"""What the `apollo judge` commands connect to: the archive always, the broker when it answers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiokafka.errors import KafkaError
from rich.console import Console

from services.cli.connection import Connection, connection_or_exit
from services.cli.settings import CliSettings
from services.eventlog.bus import KafkaBus
from services.eventlog.pg_archive import PgArchive
from services.judge.judging import llm_rules
from services.judge.pg_llm_cache import PgLlmJudgementCache
from services.judge.rejudge import JudgeModels
from services.judge.ruleset import Ruleset
from services.llm.backend_pool import BackendPool

# How long a run waits for the broker before it records into the archive alone.
BROKER_CONNECT_TIMEOUT_S = 10.0

console = Console(stderr=True)


def archive_connection() -> Connection:
    """APOLLO_POSTGRES_DSN alone will do (the broker is optional); else the running stack's."""
    settings = CliSettings()
    if settings.postgres_dsn:
        return Connection(settings.kafka or "", settings.postgres_dsn)
    return connection_or_exit()


@contextlib.asynccontextmanager
async def opened_archive(dsn: str) -> AsyncIterator[PgArchive]:
    """The archive, migrated (the verdict read model may be new), closed afterwards."""
    archive = await PgArchive.connect(dsn)
    try:
        await archive.migrate()
        yield archive
    finally:
        await archive.close()


@contextlib.asynccontextmanager
async def opened_judge_models(
    dsn: str, ruleset: Ruleset, concurrency: int
) -> AsyncIterator[JudgeModels | None]:
    """For a ruleset with llm_judge rules, the backends and the archive's answer cache (the
    live judge's, so what it asked is not asked again); None for a purely symbolic one."""
    if not llm_rules(ruleset):
        yield None
        return
    cache = await PgLlmJudgementCache.connect(dsn)
    try:
        await cache.migrate()
        yield JudgeModels(BackendPool(concurrency), cache)
    finally:
        await cache.close()


@contextlib.asynccontextmanager
async def reachable_bus(kafka: str) -> AsyncIterator[KafkaBus | None]:
    """A started bus to publish on, or None (said on stderr) when no broker answers."""
    if not kafka:
        yield None
        return
    bus = KafkaBus(kafka, client_id="apollo-judge-run")
    try:
        await asyncio.wait_for(bus.start(), BROKER_CONNECT_TIMEOUT_S)
    except (KafkaError, OSError, TimeoutError) as error:
        console.print(
            f"[yellow]broker {kafka} not reachable ({type(error).__name__}): verdicts go to "
            "the archive only; live watchers see them after the next rehydrate[/yellow]"
        )
        with contextlib.suppress(KafkaError, OSError):
            await bus.stop()
        yield None
        return
    try:
        yield bus
    finally:
        await bus.stop()
