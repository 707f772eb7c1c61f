"""`python -m services.gateway`: the annotators' HTTP API and web app, and the gRPC control API."""

from __future__ import annotations

import asyncio
import signal

from services.eventlog.admin import ensure_topics
from services.eventlog.observability import configure_logging
from services.gateway.service import run
from services.gateway.settings import GatewaySettings


async def main() -> None:
    """Run until SIGTERM or SIGINT."""
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await ensure_topics(settings.kafka)
    await run(settings, stop)


if __name__ == "__main__":
    asyncio.run(main())
