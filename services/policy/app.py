"""The policy's composition root: its settings, the bus and the model backends, run."""

from __future__ import annotations

from services.eventlog.bus import KafkaBus
from services.policy.backends import Backends
from services.policy.service import PolicyService
from services.policy.settings import PolicySettings
from services.runtime.process import serving, start_process


async def main() -> None:
    """Run the policy from its environment until SIGTERM or SIGINT."""
    settings = PolicySettings()
    log, stop = await start_process("policy", settings)
    # Dedup in memory is enough: every start reads the log afresh, and the fold drops repeats.
    async with KafkaBus(settings.kafka, client_id="apollo-policy") as bus:
        service = PolicyService(bus, Backends(settings.policy_concurrency_per_backend), settings)
        async with serving(service, settings, lambda: bus.healthy, uses_postgres=False) as server:
            log.info("policy started", kafka=settings.kafka, group=service.group,
                     metrics_port=server.port)  # fmt: skip
            await stop.wait()
