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


class BrokerNotEmpty(RuntimeError):
    """Rehydrating into a broker that already holds messages would duplicate them."""


async def end_offsets(bootstrap: str) -> dict[tuple[str, int], int]:
    """The next offset of every partition of every Apollo topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(topic.name, partition)
            for topic in ALL_TOPICS
            for partition in consumer.partitions_for_topic(topic.name) or ()
        ]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}


async def rehydrate(archive: EventArchive, bootstrap: str) -> dict[tuple[str, int], int]:
    """Republish every archived event on its topic; return the end offsets after it."""
    if any((await end_offsets(bootstrap)).values()):
        raise BrokerNotEmpty("the broker already holds messages; rehydrate needs an empty one")
    published = 0
    async with KafkaBus(bootstrap, client_id="apollo-rehydrate") as bus:
        page: list[RawOutgoing] = []
        async for record in archive.iter_all(batch=REPUBLISH_BATCH):
            page.append((record.topic, key_for(record.event), record.raw))
            if len(page) == REPUBLISH_BATCH:
                await bus.publish_raw_many(page)
                published, page = published + len(page), []
        await bus.publish_raw_many(page)
        published += len(page)
    log.info("rehydrated the broker from the archive", events=published)
    return await end_offsets(bootstrap)
