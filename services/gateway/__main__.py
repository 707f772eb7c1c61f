"""`python -m services.gateway`: the annotators' HTTP API and web app, and the gRPC control API."""

from __future__ import annotations

import asyncio

from services.gateway.service import run
from services.gateway.settings import GatewaySettings
from services.runtime.process import start_process


async def main() -> None:
    """Run until SIGTERM or SIGINT."""
    settings = GatewaySettings()
    _, stop = await start_process("gateway", settings)
    await run(settings, stop)


if __name__ == "__main__":
    asyncio.run(main())
