"""`python -m services.policy`: propose the actions of every trajectory until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

from services.eventlog.admin import ensure_topics
from services.eventlog.bus import KafkaBus
from services.eventlog.observability import ObservabilityServer, configure_logging
from services.policy.backends import Backends
from services.policy.service import PolicyService
from services.policy.settings import PolicySettings


async def main() -> None:
    """Compose the service from its settings and run it."""
    settings = PolicySettings()
    log = configure_logging("policy", settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await ensure_topics(settings.kafka)
    # Dedup in memory is enough: every start reads the log afresh, and the fold drops repeats.
    async with KafkaBus(settings.kafka, client_id="apollo-policy") as bus:
        service = PolicyService(bus, Backends(settings.policy_concurrency_per_backend), settings)
        await service.start()
        server = ObservabilityServer(settings.metrics_port, lambda: bus.healthy).start()
        log.info("policy started", kafka=settings.kafka, group=service.group,
                 metrics_port=server.port)  # fmt: skip
        try:
            await stop.wait()
        finally:
            await service.stop()
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
