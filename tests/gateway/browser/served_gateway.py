"""The real gateway (in-memory bus, archive and users) served on loopback from its own thread.

It is wired and served the way `python -m services.gateway` does it (`serving`: log feed,
drift refresh, HTTP and gRPC); only the adapters differ. A recorder subscription archives
every published event, as the recorder service does from Kafka, so events pushed by tests
and guidance sent from the page take the live path: bus → archive and bus → live streams.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from google.protobuf import json_format

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.memory_bus import InMemoryBus
from services.eventlog.subscription import Delivery, Subscription
from services.eventlog.topics import ALL_TOPICS
from services.gateway.app import Gateway
from services.gateway.attention import InMemoryAttentionLedger
from services.gateway.feeds import BusLogFeed
from services.gateway.serving import serving
from services.gateway.settings import GatewaySettings
from services.gateway.users import InMemoryUserStore, Role

# Presence is pushed on this period; short, so "who is watching" shows within a test's wait.
PRESENCE_INTERVAL_S = 0.5
START_TIMEOUT_S = 15.0
CALL_TIMEOUT_S = 5.0
T = TypeVar("T")


class ServedGateway:
    """The gateway on 127.0.0.1 and a free port; `call` runs a coroutine on its loop."""

    def __init__(self) -> None:
        self.archive = InMemoryArchive()
        self.bus = InMemoryBus()
        self.users = InMemoryUserStore()
        self.attention = InMemoryAttentionLedger()
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started: Future[str] = Future()
        self._thread = threading.Thread(target=self._run, name="gateway", daemon=True)

    def start(self) -> ServedGateway:
        self._thread.start()
        self.url = self._started.result(timeout=START_TIMEOUT_S)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=START_TIMEOUT_S)

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the gateway's loop and wait for its result."""
        assert self._loop is not None, "start() the gateway first"
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=CALL_TIMEOUT_S)

    def create_user(self, name: str, role: str = "annotator") -> str:
        """Adds an account and returns its API token."""
        _, token = self.call(self.users.add(name, Role(role)))
        return token

    def push_event(self, event: dict[str, Any]) -> None:
        """Publishes a protobuf-JSON event on the bus and waits until it is archived."""
        message = json_format.ParseDict(event, pb.Event())
        self.call(self.bus.publish(message))
        deadline = time.monotonic() + CALL_TIMEOUT_S
        while not self.call(self.archive.has([message.event_id])):
            assert time.monotonic() < deadline, "the recorder did not archive the event"
            time.sleep(0.005)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # a failed start must reach the waiting test
            if not self._started.done():
                self._started.set_exception(error)
            raise

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        gateway = Gateway(
            self.users,
            self.attention,
            self.archive,
            self.bus,
            presence_interval_s=PRESENCE_INTERVAL_S,
        )
        settings = GatewaySettings(
            gateway_host="127.0.0.1",
            gateway_port=0,
            gateway_grpc_port=0,
            gateway_presence_interval_s=PRESENCE_INTERVAL_S,
        )
        async with self.bus:
            await self.bus.subscribe(self._recorder())
            async with serving(gateway, BusLogFeed(self.bus), settings) as served:
                self._started.set_result(served.http)
                await self._stop.wait()

    def _recorder(self) -> Subscription:
        async def archive(delivery: Delivery) -> None:
            await self.archive.append([(delivery.topic, delivery.event)])

        topics = tuple(topic.name for topic in ALL_TOPICS)
        return Subscription(name="recorder", topics=topics, group="recorder", handler=archive)
