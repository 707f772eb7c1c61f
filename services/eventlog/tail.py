"""Following one trajectory live: the log from the start, then new events as they come."""

from __future__ import annotations

from collections.abc import Callable

from apollo.v1 import events_pb2 as pb
from services.eventlog.codec import RejectedMessage, decode
from services.eventlog.kafka.readers import KafkaReader
from services.eventlog.positioned import reading
from services.eventlog.topics import TRAJECTORIES

# How often a watcher polls: Tansu does not wake a long poll when a message arrives.
POLL_MS = 50


async def tail_trajectory(
    bootstrap: str, trajectory_id: str, on_event: Callable[[pb.Event], None]
) -> None:
    """Call `on_event` for each event of the trajectory, once each, until cancelled."""
    # No group: a watcher commits nothing and never steals partitions from services.
    reader = KafkaReader(bootstrap, client_id="apollo-tail", fetch_max_wait_ms=POLL_MS)
    key = trajectory_id.encode()
    seen: set[str] = set()
    async with reading(reader, [TRAJECTORIES.name]):
        while True:
            fetched = await reader.fetch(max_records=500, timeout_ms=POLL_MS)
            for message in fetched.messages:
                if message.key != key:
                    continue
                try:
                    event = decode(message.value)
                except RejectedMessage:
                    continue  # the consumers that own it dead-letter it
                if event.event_id not in seen:
                    seen.add(event.event_id)
                    on_event(event)
