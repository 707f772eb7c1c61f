"""Rehydrate: republish the archive, in order, into an empty broker before services start."""

from __future__ import annotations

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.eventlog.archive import EventArchive
from services.eventlog.bus import KafkaBus
from services.eventlog.subscription import RawOutgoing
from services.eventlog.topics import ALL_TOPICS, key_for

log = structlog.get_logger(service="rehydrate")

# Sends pipelined per round trip; the archive is read in pages of the same size.
REPUBLISH_BATCH = 1000
# How long an empty broker gets to show a first message.
EMPTINESS_PROBE_MS = 300


class BrokerNotEmpty(RuntimeError):
    """Rehydrating into a broker that already holds messages would duplicate them."""


async def broker_is_empty(bootstrap: str) -> bool:
    """True if no Apollo topic holds a message.

    This fetches instead of asking for end offsets: Tansu reports the base offset of a
    partition's last record batch as its end, which reads 0 for a single-batch log.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        await consumer.topics()
        consumer.assign(
            [
                TopicPartition(topic.name, partition)
                for topic in ALL_TOPICS
                for partition in consumer.partitions_for_topic(topic.name) or ()
            ]
        )
        await consumer.seek_to_beginning()
        fetched = await consumer.getmany(timeout_ms=EMPTINESS_PROBE_MS, max_records=1)
    finally:
        await consumer.stop()
    return not any(fetched.values())


async def rehydrate(archive: EventArchive, bootstrap: str) -> dict[tuple[str, int], int]:
    """Republish every archived event on its topic; return each partition's next offset."""
    if not await broker_is_empty(bootstrap):
        raise BrokerNotEmpty("the broker already holds messages; rehydrate needs an empty one")
    next_offsets: dict[tuple[str, int], int] = {}
    published = 0
    async with KafkaBus(bootstrap, client_id="apollo-rehydrate") as bus:
        page: list[RawOutgoing] = []
        async for record in archive.iter_all(batch=REPUBLISH_BATCH):
            page.append((record.topic, key_for(record.event), record.raw))
            if len(page) == REPUBLISH_BATCH:
                next_offsets.update(_after(await bus.publish_raw_many(page)))
                published, page = published + len(page), []
        next_offsets.update(_after(await bus.publish_raw_many(page)))
        published += len(page)
    log.info("rehydrated the broker from the archive", events=published)
    return next_offsets


def _after(placements: list[tuple[str, int, int]]) -> dict[tuple[str, int], int]:
    """The offset after the last message placed on each partition."""
    return {(topic, partition): offset + 1 for topic, partition, offset in placements}
