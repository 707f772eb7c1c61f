"""`python -m services.policy`: propose the actions of every trajectory until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio

from services.eventlog.bus import KafkaBus
from services.policy.backends import Backends
from services.policy.service import PolicyService
from services.policy.settings import PolicySettings
from services.runtime.process import serving, start_process


async def main() -> None:
    """Compose the service from its settings and run it."""
    settings = PolicySettings()
    log, stop = await start_process("policy", settings)
    # Dedup in memory is enough: every start reads the log afresh, and the fold drops repeats.
    async with KafkaBus(settings.kafka, client_id="apollo-policy") as bus:
        service = PolicyService(bus, Backends(settings.policy_concurrency_per_backend), settings)
        async with serving(service, settings.metrics_port, lambda: bus.healthy) as server:
            log.info("policy started", kafka=settings.kafka, group=service.group,
                     metrics_port=server.port)  # fmt: skip
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
