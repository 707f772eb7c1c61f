"""`python -m services.summarizer`: answer every SummaryRequested until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

from services.eventlog.admin import ensure_topics
from services.eventlog.bus import KafkaBus
from services.eventlog.observability import ObservabilityServer, configure_logging
from services.summarizer.service import SummarizerService
from services.summarizer.settings import SummarizerSettings


async def main() -> None:
    """Compose the service from its settings and run it."""
    settings = SummarizerSettings()
    log = configure_logging("summarizer", settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await ensure_topics(settings.kafka)
    async with KafkaBus(settings.kafka, client_id="apollo-summarizer") as bus:
        service = SummarizerService(bus, settings)
        await service.start()
        server = ObservabilityServer(settings.metrics_port, lambda: bus.healthy).start()
        log.info("summarizer started", kafka=settings.kafka, metrics_port=server.port)
        try:
            await stop.wait()
        finally:
            await service.stop()
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
