"""Following one trajectory live: the log from the start, then new events as they come."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from aiokafka.errors import KafkaError

from apollo.v1 import events_pb2 as pb
from services.eventlog.codec import RejectedMessage, decode
from services.eventlog.kafka.readers import KafkaReader
from services.eventlog.positioned import Partition, ReaderNotReady, reading
from services.eventlog.topics import TRAJECTORIES

log = structlog.get_logger(__name__)

# How often a watcher polls: Tansu does not wake a long poll when a message arrives.
POLL_MS = 50
# How long a watcher waits before reconnecting to a broker that is down.
RECONNECT_S = 0.5


class LogReplaced(Exception):
    """The broker's log ends before where this reader got: it restarted and was rehydrated."""


async def tail_trajectory(
    bootstrap: str, trajectory_id: str, on_event: Callable[[pb.Event], None]
) -> None:
    """Call `on_event` for each event of the trajectory, once each, until cancelled.

    Survives a broker restart: it reads the rehydrated log again from the start, and the
    events it already handed on are skipped by id.
    """
    seen: set[str] = set()
    while True:
        try:
            await _follow(bootstrap, trajectory_id.encode(), seen, on_event)
        except LogReplaced:
            log.info("the broker restarted; reading its log again", trajectory_id=trajectory_id)
        except (KafkaError, ReaderNotReady) as error:
            log.info("the broker is not answering; reconnecting", error=str(error))
            await asyncio.sleep(RECONNECT_S)


async def _follow(
    bootstrap: str, key: bytes, seen: set[str], on_event: Callable[[pb.Event], None]
) -> None:
    # No group: a watcher commits nothing and never steals partitions from services.
    reader = KafkaReader(bootstrap, client_id="apollo-tail", fetch_max_wait_ms=POLL_MS)
    read_to: dict[Partition, int] = {}
    async with reading(reader, [TRAJECTORIES.name]):
        while True:
            fetched = await reader.fetch(max_records=500, timeout_ms=POLL_MS)
            for message in fetched.messages:
                read_to[(message.topic, message.partition)] = message.offset + 1
                if message.key != key:
                    continue
                try:
                    event = decode(message.value)
                except RejectedMessage:
                    continue  # the consumers that own it dead-letter it
                if event.event_id not in seen:
                    seen.add(event.event_id)
                    on_event(event)
            # Tansu answers a fetch past the end with nothing, not out-of-range: only the
            # high-water mark falling below where we read shows the log was replaced.
            if any(fetched.highwater.get(p, end) < end for p, end in read_to.items()):
                raise LogReplaced
