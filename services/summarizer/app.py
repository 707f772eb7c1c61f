"""The summarizer's composition root: its settings and the bus, run."""

from __future__ import annotations

from services.eventlog.bus import KafkaBus
from services.runtime.process import serving, start_process
from services.summarizer.service import SummarizerService
from services.summarizer.settings import SummarizerSettings


async def main() -> None:
    """Run the summarizer from its environment until SIGTERM or SIGINT."""
    settings = SummarizerSettings()
    log, stop = await start_process("summarizer", settings)
    async with KafkaBus(settings.kafka, client_id="apollo-summarizer") as bus:
        service = SummarizerService(bus, settings)
        async with serving(service, settings, lambda: bus.healthy, uses_postgres=False) as server:
            log.info("summarizer started", kafka=settings.kafka, metrics_port=server.port)
            await stop.wait()
