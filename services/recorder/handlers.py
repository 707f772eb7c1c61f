"""The recorder's handler: a batch of messages in, one archive transaction and dead letters out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import structlog
from google.protobuf.message import DecodeError

from apollo.v1 import deadletter_pb2
from services.eventlog.archive import EventArchive
from services.eventlog.codec import RejectedMessage, decode
from services.eventlog.deadletter import dead_letter_for, parse_dead_letter
from services.eventlog.positioned import LogMessage
from services.eventlog.topics import DEADLETTER
from services.recorder import metrics
from services.recorder.ports import RawPublisher

log = structlog.get_logger(service="recorder")


@dataclass
class Batch:
    """A batch sorted into what gets archived and what gets dead-lettered."""

    events: list = field(default_factory=list)
    dead_letters: list[deadletter_pb2.DeadLetter] = field(default_factory=list)
    rejected: list[tuple[LogMessage, RejectedMessage]] = field(default_factory=list)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)


async def record_batch(
    messages: list[LogMessage], archive: EventArchive, publisher: RawPublisher, group: str
) -> Batch:
    """Dead-letter what cannot be decoded, then archive the rest with the offsets after it;
    the batch as decoded."""
    started = time.perf_counter()
    batch = sort_batch(messages)
    await dead_letter_rejects(batch, publisher, group)
    added = await archive_batch(archive, batch, group)
    metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
    metrics.ARCHIVED.inc(added)
    metrics.DUPLICATES.inc(len(batch.events) - added)
    return batch


def sort_batch(messages: list[LogMessage]) -> Batch:
    """Decode each message; dead letters are archived as such, rejects set aside."""
    batch = Batch()
    for message in messages:
        batch.next_offsets[(message.topic, message.partition)] = message.offset + 1
        if message.topic == DEADLETTER.name:
            batch.dead_letters.append(_parse_dead_letter(message))
            continue
        try:
            batch.events.append((message.topic, decode(message.value)))
        except RejectedMessage as rejection:
            batch.rejected.append((message, rejection))
    return batch


def _parse_dead_letter(message: LogMessage) -> deadletter_pb2.DeadLetter:
    try:
        letter = parse_dead_letter(message.value or b"")
    except DecodeError:  # a broken dead letter is kept, raw, as a dead letter of its own
        letter = deadletter_pb2.DeadLetter(
            raw=message.value or b"", reason="undecodable dead letter", error_class="undecodable"
        )
    if not letter.topic:
        letter.topic = message.topic
        letter.partition = message.partition
        letter.offset = message.offset
    return letter


async def dead_letter_rejects(batch: Batch, publisher: RawPublisher, group: str) -> None:
    """Publish a dead letter for each rejected message (the recorder archives it on reading it)."""
    for message, rejection in batch.rejected:
        letter = dead_letter_for(message, rejection, group)
        await publisher.publish_raw(DEADLETTER.name, message.key, letter.SerializeToString())
        metrics.DEAD_LETTERS.labels(rejection.error_class).inc()
        log.warning(
            "dead-lettered",
            topic=message.topic,
            offset=message.offset,
            error_class=rejection.error_class,
            reason=rejection.reason,
        )


async def archive_batch(archive: EventArchive, batch: Batch, group: str) -> int:
    """One transaction: the events and the offsets after them; returns how many were new."""
    if batch.dead_letters:
        # Idempotent, so writing them before the offsets is safe if we die in between.
        await archive.append_dead_letters(batch.dead_letters)
    offsets = {
        (group, topic, partition): offset
        for (topic, partition), offset in batch.next_offsets.items()
    }
    return await archive.append(batch.events, offsets=offsets)
