"""`python -m services.summarizer`: answer every SummaryRequested until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio

from services.eventlog.bus import KafkaBus
from services.runtime.process import serving, start_process
from services.summarizer.service import SummarizerService
from services.summarizer.settings import SummarizerSettings


async def main() -> None:
    """Compose the service from its settings and run it."""
    settings = SummarizerSettings()
    log, stop = await start_process("summarizer", settings)
    async with KafkaBus(settings.kafka, client_id="apollo-summarizer") as bus:
        service = SummarizerService(bus, settings)
        async with serving(service, settings.metrics_port, lambda: bus.healthy) as server:
            log.info("summarizer started", kafka=settings.kafka, metrics_port=server.port)
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
