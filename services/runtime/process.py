"""What every service's entry point does around its loop: log, stop on a signal, serve metrics."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from typing import Protocol

import structlog

from services.eventlog.admin import ensure_topics
from services.runtime.observability import HealthCheck, ObservabilityServer, configure_logging
from services.runtime.readiness import readiness_of
from services.runtime.settings import ServiceSettings


class StartStop(Protocol):
    """A service that subscribes on `start` and abandons its work in flight on `stop`."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def stop_on_signals() -> asyncio.Event:
    """An event that SIGTERM or SIGINT sets; call it inside the running loop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def start_process(
    service: str, settings: ServiceSettings
) -> tuple[structlog.stdlib.BoundLogger, asyncio.Event]:
    """Log as `service`, stop on SIGTERM or SIGINT, and create any missing topic."""
    log = configure_logging(service, settings.log_level)
    stop = stop_on_signals()
    await ensure_topics(settings.kafka)
    return log, stop


@contextlib.asynccontextmanager
async def serving(
    service: StartStop, settings: ServiceSettings, health: HealthCheck, *, uses_postgres: bool
) -> AsyncIterator[ObservabilityServer]:
    """Start the service, then its `/metrics`, `/healthz` and `/readyz` (which also asks the
    broker, and Postgres when the service `uses_postgres`); on exit stop both, in that order."""
    await service.start()
    ready = readiness_of(health, settings, uses_postgres)
    server = ObservabilityServer(settings.metrics_port, health, settings.metrics_host, ready)
    server.start()
    try:
        yield server
    finally:
        await service.stop()
        server.stop()
