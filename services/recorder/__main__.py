"""`python -m services.recorder`: archive every topic into Postgres."""

from __future__ import annotations

import asyncio
import signal

from services.eventlog.admin import ensure_topics
from services.eventlog.bus import KafkaBus
from services.eventlog.observability import ObservabilityServer, configure_logging
from services.eventlog.pg_archive import PgArchive
from services.recorder.service import Recorder
from services.recorder.settings import RecorderSettings


async def main() -> None:
    """Run until SIGTERM or SIGINT."""
    settings = RecorderSettings()
    log = configure_logging("recorder", settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await ensure_topics(settings.kafka)
    archive = await PgArchive.connect(settings.postgres_dsn)
    await archive.migrate()
    try:
        async with KafkaBus(settings.kafka, client_id="apollo-recorder") as bus:
            recorder = Recorder(settings, archive, bus)
            server = ObservabilityServer(settings.metrics_port, lambda: recorder.healthy).start()
            log.info("recorder started", kafka=settings.kafka, metrics_port=server.port)
            try:
                await recorder.run(stop)
            finally:
                server.stop()
    finally:
        await archive.close()


if __name__ == "__main__":
    asyncio.run(main())
