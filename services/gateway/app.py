"""The gateway's composition root: its parts behind ports (tests pass fakes), wired from
Postgres and the bus by its settings, and run until asked to stop."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import structlog

from services.eventlog.archive import EventArchive
from services.eventlog.bus import KafkaBus
from services.eventlog.pg_archive import PgArchive
from services.eventlog.postgres import create_pool
from services.eventlog.subscription import Bus
from services.gateway.attention import AttentionLedger
from services.gateway.body_limit import DEFAULT_MAX_BODY_BYTES
from services.gateway.confirmation import ArchivedConfirmation
from services.gateway.control import Control
from services.gateway.drift import DriftRules
from services.gateway.feeds import KafkaLogFeed
from services.gateway.live import LiveLog
from services.gateway.pg_store import PgAttentionLedger, PgUserStore
from services.gateway.presence import Presence
from services.gateway.serving import serving
from services.gateway.settings import GatewaySettings
from services.gateway.sign_in_throttle import SignInThrottle
from services.gateway.users import UserStore
from services.runtime.observability import ObservabilityServer
from services.runtime.process import start_process
from services.runtime.readiness import readiness_of
from services.tasks.packs import TaskCatalog

log = structlog.get_logger(service="gateway")
STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class Gateway:
    """Everything the HTTP and gRPC front ends need, behind ports."""

    users: UserStore
    attention: AttentionLedger
    archive: EventArchive
    bus: Bus
    rules: DriftRules = field(default_factory=DriftRules)
    presence_interval_s: float = 5.0
    secure_cookie: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    sign_in: SignInThrottle = field(default_factory=SignInThrottle)
    static_dir: Path = STATIC_DIR
    presence: Presence = field(default_factory=Presence)
    tasks: TaskCatalog = field(default_factory=TaskCatalog)
    # Answer commands once their event is archived (needs a recorder), not once the broker
    # has it: a broker that dies takes what the recorder had not archived yet.
    confirm_archived: bool = False
    live: LiveLog = field(init=False)
    control: Control = field(init=False)

    def __post_init__(self) -> None:
        self.live = LiveLog(self.archive, self.rules)
        confirmation = ArchivedConfirmation(self.archive) if self.confirm_archived else None
        self.control = Control(self.bus, self.live, self.tasks, confirmation)


def drift_rules(settings: GatewaySettings) -> DriftRules:
    """The drift thresholds the settings choose."""
    return DriftRules(
        no_progress_steps=settings.gateway_no_progress_steps,
        stall_seconds=settings.gateway_stall_seconds,
    )


@contextlib.asynccontextmanager
async def pg_gateway(settings: GatewaySettings, bus: KafkaBus) -> AsyncIterator[Gateway]:
    """The gateway over Postgres and the bus; one pool for the archive, users and attention."""
    pool: asyncpg.Pool = await create_pool(settings.postgres_dsn, max_size=8)
    try:
        archive, users = PgArchive(pool), PgUserStore(pool)
        await archive.migrate()
        await users.migrate()
        yield Gateway(
            users,
            PgAttentionLedger(pool),
            archive,
            bus,
            rules=drift_rules(settings),
            presence_interval_s=settings.gateway_presence_interval_s,
            secure_cookie=settings.gateway_secure_cookie,
            max_body_bytes=settings.gateway_max_body_bytes,
            sign_in=SignInThrottle(
                settings.gateway_sign_in_burst, settings.gateway_sign_in_per_minute
            ),
            tasks=TaskCatalog.with_builtins(settings.gateway_task_dirs),
            confirm_archived=settings.gateway_confirm_archived,
        )
    finally:
        await pool.close()


def write_atomically(path: Path, text: str) -> None:
    """Write so that a reader (the supervisor) never sees half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


async def run(settings: GatewaySettings, stop: asyncio.Event) -> None:
    """Run the gateway until `stop` is set."""
    async with (
        KafkaBus(settings.kafka, client_id="apollo-gateway") as bus,
        pg_gateway(settings, bus) as gateway,
        serving(gateway, KafkaLogFeed(settings.kafka), settings) as served,
    ):

        def healthy() -> bool:
            return served.healthy() and bus.healthy

        ready = readiness_of(healthy, settings, uses_postgres=True)
        health = ObservabilityServer(settings.metrics_port, healthy, settings.metrics_host, ready)
        health.start()
        try:
            if settings.gateway_url_file is not None:
                write_atomically(settings.gateway_url_file, served.as_json())
            log.info("gateway started", http=served.http, grpc=served.grpc, metrics=health.port)
            print(f"gateway_url={served.http} grpc={served.grpc}", flush=True)
            await stop.wait()
        finally:
            health.stop()


async def main() -> None:
    """Run the gateway from its environment until SIGTERM or SIGINT."""
    settings = GatewaySettings()
    _, stop = await start_process("gateway", settings)
    await run(settings, stop)
