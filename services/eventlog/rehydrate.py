"""Rehydrate: republish the archive, in order, into an empty broker before services start."""

from __future__ import annotations

import structlog

from services.eventlog.archive import EventArchive
from services.eventlog.bus import KafkaBus
from services.eventlog.kafka.readers import KafkaReader
from services.eventlog.positioned import reading
from services.eventlog.subscription import RawOutgoing
from services.eventlog.topics import ALL_TOPICS, key_for

log = structlog.get_logger(service="rehydrate")

# Sends pipelined per round trip; the archive is read in pages of the same size.
REPUBLISH_BATCH = 1000


class BrokerNotEmpty(RuntimeError):
    """Rehydrating into a broker that already holds messages would duplicate them."""


async def broker_is_empty(bootstrap: str) -> bool:
    """True if no Apollo topic holds a message (by the high-water marks a fetch reports)."""
    reader = KafkaReader(bootstrap, client_id="apollo-rehydrate")
    async with reading(reader, [topic.name for topic in ALL_TOPICS]) as ends:
        return not any(ends.values())


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
