"""Where the live log and verdicts come from: a group-less Kafka tail, or a bus subscription
in tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog

from apollo.v1 import events_pb2 as pb
from services.eventlog.codec import RejectedMessage, decode
from services.eventlog.kafka.readers import KafkaReader
from services.eventlog.positioned import StartAt, reading
from services.eventlog.subscription import (
    BATCHED_FETCH_WAIT_MS,
    AckPolicy,
    Bus,
    Delivery,
    Subscription,
)
from services.eventlog.topics import TRAJECTORIES, VERDICTS

OnEvent = Callable[[pb.Event], Awaitable[None]]
log = structlog.get_logger(service="gateway")
# The timeline shows the run and its verdicts, so the feed follows both topics.
LIVE_TOPICS = (TRAJECTORIES.name, VERDICTS.name)


class LogFeed(Protocol):
    """Delivers new trajectory-log and verdict events to a callback until cancelled."""

    ready: asyncio.Event

    async def run(self, on_event: OnEvent) -> None:
        """Follow the log from its current end; set `ready` once positioned."""


class KafkaLogFeed:
    """A group-less tail of the log and the verdicts: commits nothing and never steals
    partitions from services."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self.ready = asyncio.Event()

    async def run(self, on_event: OnEvent) -> None:
        """Follow the log from its current end; set `ready` once positioned."""
        # People watch this feed, and no step waits on it.
        reader = KafkaReader(
            self._bootstrap,
            client_id="apollo-gateway-live",
            fetch_max_wait_ms=BATCHED_FETCH_WAIT_MS,
        )
        async with reading(reader, list(LIVE_TOPICS), otherwise=StartAt.END):
            self.ready.set()
            while True:
                fetched = await reader.fetch(max_records=500, timeout_ms=200)
                for message in fetched.messages:
                    try:
                        event = decode(message.value)
                    except RejectedMessage:
                        continue  # the consumers that own the message dead-letter it
                    await on_event(event)


class BusLogFeed:
    """The log and the verdicts through a bus subscription of its own group (for the
    in-memory bus)."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self.ready = asyncio.Event()

    async def run(self, on_event: OnEvent) -> None:
        """Subscribe for new events only; runs until cancelled."""

        async def handle(delivery: Delivery) -> None:
            await on_event(delivery.event)

        group = f"apollo-gateway-live-{uuid.uuid4().hex[:8]}"
        await self._bus.subscribe(
            Subscription(
                name="gateway-live",
                topics=LIVE_TOPICS,
                group=group,
                handler=handle,
                ack=AckPolicy.AT_MOST_ONCE,
                from_beginning=False,
            )
        )
        self.ready.set()
        await asyncio.Event().wait()
