"""The recorder's composition root: settings in, real adapters unless a test passes fakes."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from services.eventlog.archive import EventArchive
from services.eventlog.bus import KafkaBus
from services.eventlog.kafka.readers import KafkaReader
from services.eventlog.pg_archive import PgArchive
from services.eventlog.positioned import PositionedReader
from services.recorder.ports import RawPublisher
from services.recorder.service import Recorder
from services.recorder.settings import RecorderSettings
from services.runtime.observability import ObservabilityServer
from services.runtime.process import start_process
from services.runtime.readiness import readiness_of

log = structlog.get_logger(service="recorder")

CLIENT_ID = "apollo-recorder"
# One message may be a dead letter holding a whole oversized message.
MAX_PARTITION_FETCH_BYTES = 16 * 1024 * 1024


def kafka_reader(settings: RecorderSettings) -> KafkaReader:
    """The recorder's reader: polls as often as it archives, and stands by while a trajectory
    runs, since the gateway answers a guidance message once it is archived."""
    return KafkaReader(
        settings.kafka,
        client_id=CLIENT_ID,
        fetch_max_wait_ms=settings.recorder_poll_ms,
        max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
        standby=True,
    )


async def run(
    settings: RecorderSettings,
    stop: asyncio.Event,
    *,
    archive: EventArchive | None = None,
    reader: PositionedReader | None = None,
    dead_letters: RawPublisher | None = None,
) -> None:
    """Archive until `stop` is set, serving `/metrics` and `/healthz` meanwhile."""
    async with contextlib.AsyncExitStack() as resources:
        if archive is None:
            archive = await PgArchive.connect(settings.postgres_dsn)
            resources.push_async_callback(archive.close)
            await archive.migrate()
        if dead_letters is None:
            dead_letters = await resources.enter_async_context(
                KafkaBus(settings.kafka, client_id=CLIENT_ID)
            )
        recorder = Recorder(settings, archive, reader or kafka_reader(settings), dead_letters)

        def healthy() -> bool:
            return recorder.healthy

        ready = readiness_of(healthy, settings, uses_postgres=True)
        server = ObservabilityServer(settings.metrics_port, healthy, settings.metrics_host, ready)
        server.start()
        resources.callback(server.stop)
        log.info("recorder started", kafka=settings.kafka, metrics_port=server.port)
        await recorder.run(stop)


async def main() -> None:
    """Run the recorder process until SIGTERM or SIGINT."""
    settings = RecorderSettings()
    _, stop = await start_process("recorder", settings)
    await run(settings, stop)
