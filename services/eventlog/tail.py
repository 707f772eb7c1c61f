"""Following one trajectory live: the log from the start, then new events as they come."""

from __future__ import annotations

from collections.abc import Callable

from aiokafka import AIOKafkaConsumer

from apollo.v1 import events_pb2 as pb
from services.eventlog.codec import RejectedMessage, decode
from services.eventlog.topics import TRAJECTORIES


async def tail_trajectory(
    bootstrap: str, trajectory_id: str, on_event: Callable[[pb.Event], None]
) -> None:
    """Call `on_event` for each event of the trajectory, once each, until cancelled."""
    # No group: a watcher commits nothing and never steals partitions from services.
    consumer = AIOKafkaConsumer(
        TRAJECTORIES.name,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    key = trajectory_id.encode()
    seen: set[str] = set()
    await consumer.start()
    try:
        async for message in consumer:
            if message.key != key:
                continue
            try:
                event = decode(message.value)
            except RejectedMessage:
                continue  # the consumers that own it dead-letter it
            if event.event_id not in seen:
                seen.add(event.event_id)
                on_event(event)
    finally:
        await consumer.stop()
