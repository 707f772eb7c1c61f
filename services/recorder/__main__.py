"""`python -m services.recorder`: archive every topic into Postgres."""

from __future__ import annotations

import asyncio

from services.eventlog.bus import KafkaBus
from services.eventlog.pg_archive import PgArchive
from services.recorder.service import Recorder
from services.recorder.settings import RecorderSettings
from services.runtime.observability import ObservabilityServer
from services.runtime.process import start_process


async def main() -> None:
    """Run until SIGTERM or SIGINT."""
    settings = RecorderSettings()
    log, stop = await start_process("recorder", settings)
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
