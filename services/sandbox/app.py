"""The sandbox's composition root: settings in, the service out (tests pass fakes)."""

from __future__ import annotations

from services.eventlog.blobs import BlobStore, DirectoryBlobStore
from services.eventlog.bus import KafkaBus
from services.eventlog.pg_archive import PgArchive
from services.eventlog.pg_processed import PgProcessedEvents
from services.eventlog.subscription import Bus
from services.runtime.process import serving, start_process
from services.sandbox.backend import SandboxBackend
from services.sandbox.bubblewrap import BubblewrapBackend
from services.sandbox.history import ArchiveHistory, TrajectoryHistory
from services.sandbox.ledger import ExecutionLedger
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


def build_sandbox(
    settings: SandboxSettings,
    bus: Bus,
    ledger: ExecutionLedger,
    blobs: BlobStore,
    *,
    backend: SandboxBackend | None = None,
    history: TrajectoryHistory | None = None,
) -> SandboxService:
    """The sandbox over these adapters, with the backend the settings name unless given."""
    limits = ResourceLimits(
        processes=settings.sandbox_processes,
        cpu_seconds=settings.sandbox_cpu_seconds,
        file_bytes=settings.sandbox_file_bytes,
    )
    runtimes = Runtimes(
        TaskCatalog.with_builtins(settings.sandbox_task_dirs),
        backend or make_backend(settings),
        ledger,
        settings.sandbox_workspace_root.resolve(),
        limits,
    )
    return SandboxService(
        bus, runtimes, ledger, blobs, settings.sandbox_group, history, settings.shard
    )


async def main() -> None:
    """Run the sandbox from its environment until SIGTERM or SIGINT."""
    settings = SandboxSettings()
    log, stop = await start_process("sandbox", settings)
    ledger = await PgExecutionLedger.connect(settings.postgres_dsn)
    processed = await PgProcessedEvents.connect(settings.postgres_dsn)
    await processed.migrate()
    archive = await PgArchive.connect(settings.postgres_dsn)
    await archive.migrate()
    try:
        async with KafkaBus(settings.kafka, "apollo-sandbox", processed=processed) as bus:
            blobs = DirectoryBlobStore(settings.blob_dir)
            service = build_sandbox(settings, bus, ledger, blobs, history=ArchiveHistory(archive))
            async with serving(
                service, settings, lambda: bus.healthy, uses_postgres=True
            ) as server:
                log.info("sandbox started", kafka=settings.kafka, metrics_port=server.port)
                await stop.wait()
    finally:
        await archive.close()
        await processed.close()
        await ledger.close()
