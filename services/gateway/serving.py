"""The gateway's front ends at work: follow the log, then serve HTTP and gRPC until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import uvicorn

from services.gateway.feeds import LogFeed
from services.gateway.grpc_server import start_grpc_server
from services.gateway.http_app import create_app
from services.gateway.settings import GatewaySettings

if TYPE_CHECKING:
    from services.gateway.app import Gateway

FEED_READY_TIMEOUT_S = 30.0


class _EmbeddedServer(uvicorn.Server):
    """Uvicorn without its own signal handling: the process's entry point owns the signals."""

    task: asyncio.Task | None = None

    @contextlib.contextmanager
    def capture_signals(self):
        yield


@dataclass
class Serving:
    """Where the gateway answers, and whether its background work still runs."""

    http: str
    grpc: str
    tasks: list[asyncio.Task]

    def healthy(self) -> bool:
        """True while the log feed, the drift refresh and the HTTP server all run."""
        return all(not task.done() for task in self.tasks)

    def as_json(self) -> str:
        """The URL file's content."""
        return json.dumps({"http": self.http, "grpc": self.grpc})


async def _refresh_drift(gateway: Gateway, every_s: float) -> None:
    # Stalls and time budgets change with the clock, not only with events.
    while True:
        await asyncio.sleep(every_s)
        gateway.live.refresh()


async def _start_http(
    gateway: Gateway, settings: GatewaySettings, background: list[asyncio.Task]
) -> tuple[_EmbeddedServer, int]:
    server = _EmbeddedServer(
        uvicorn.Config(
            create_app(gateway, health=lambda: all(not task.done() for task in background)),
            host=settings.gateway_host,
            port=settings.gateway_port,
            log_config=None,
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve(), name="gateway:http")
    while not server.started:
        if task.done():
            task.result()  # raises why uvicorn could not start
            raise RuntimeError("the HTTP server stopped while starting")
        await asyncio.sleep(0.01)
    server.task = task
    return server, server.servers[0].sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def serving(
    gateway: Gateway, feed: LogFeed, settings: GatewaySettings
) -> AsyncIterator[Serving]:
    """Follow the log, then serve HTTP and gRPC until the block exits."""
    feed_task = asyncio.create_task(feed.run(gateway.live.on_event), name="gateway:feed")
    refresh = asyncio.create_task(_refresh_drift(gateway, settings.gateway_presence_interval_s))
    background = [feed_task, refresh]
    http = grpc_server = None
    try:
        await asyncio.wait_for(feed.ready.wait(), FEED_READY_TIMEOUT_S)
        await gateway.live.load_running()
        http, http_port = await _start_http(gateway, settings, background)
        grpc_server, grpc_port = await start_grpc_server(
            gateway, settings.gateway_host, settings.gateway_grpc_port
        )
        host = settings.gateway_host
        yield Serving(f"http://{host}:{http_port}", f"{host}:{grpc_port}", [*background, http.task])
    finally:
        if grpc_server is not None:
            await grpc_server.stop(grace=2)
        if http is not None:
            http.should_exit = True
            await asyncio.wait_for(http.task, 10)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
