"""`python -m services.sandbox`: run actions of every trajectory until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio

from services.eventlog.blobs import DirectoryBlobStore
from services.eventlog.bus import KafkaBus
from services.eventlog.pg_archive import PgArchive
from services.eventlog.pg_processed import PgProcessedEvents
from services.runtime.process import serving, start_process
from services.sandbox.backend import SandboxBackend
from services.sandbox.bubblewrap import BubblewrapBackend
from services.sandbox.history import ArchiveHistory
from services.sandbox.limits import ResourceLimits
from services.sandbox.pg_ledger import PgExecutionLedger
from services.sandbox.registry import Runtimes
from services.sandbox.service import SandboxService
from services.sandbox.settings import SandboxSettings
from services.tasks.packs import TaskCatalog


def make_backend(settings: SandboxSettings) -> SandboxBackend:
    """The backend APOLLO_SANDBOX_BACKEND names."""
    if settings.sandbox_backend == "kubernetes":
        # Imported here so the local backend runs without the kubernetes client installed.
        from services.sandbox.kubernetes import KubernetesBackend

        return KubernetesBackend.from_environment(
            settings.sandbox_k8s_namespace,
            settings.sandbox_k8s_image,
            settings.sandbox_k8s_workspace_claim,
            settings.sandbox_workspace_root,
        )
    return BubblewrapBackend(settings.sandbox_uid)


async def main() -> None:
    """Compose the service from its settings and run it."""
    settings = SandboxSettings()
    log, stop = await start_process("sandbox", settings)
    ledger = await PgExecutionLedger.connect(settings.postgres_dsn)
    processed = await PgProcessedEvents.connect(settings.postgres_dsn)
    await processed.migrate()
    archive = await PgArchive.connect(settings.postgres_dsn)
    await archive.migrate()
    limits = ResourceLimits(
        processes=settings.sandbox_processes,
        cpu_seconds=settings.sandbox_cpu_seconds,
        file_bytes=settings.sandbox_file_bytes,
    )
    runtimes = Runtimes(
        TaskCatalog.with_builtins(settings.sandbox_task_dirs),
        make_backend(settings),
        ledger,
        settings.sandbox_workspace_root.resolve(),
        limits,
    )
    try:
        async with KafkaBus(settings.kafka, "apollo-sandbox", processed=processed) as bus:
            service = SandboxService(
                bus, runtimes, ledger, DirectoryBlobStore(settings.blob_dir),
                settings.sandbox_group, ArchiveHistory(archive),
            )  # fmt: skip
            async with serving(service, settings.metrics_port, lambda: bus.healthy) as server:
                log.info("sandbox started", kafka=settings.kafka, metrics_port=server.port)
                await stop.wait()
    finally:
        await archive.close()
        await processed.close()
        await ledger.close()


if __name__ == "__main__":
    asyncio.run(main())
