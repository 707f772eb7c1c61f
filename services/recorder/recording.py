"""Turning one batch of Kafka messages into one archive transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from apollo.v1 import deadletter_pb2
from services.eventlog.archive import EventArchive
from services.eventlog.codec import RejectedMessage, decode
from services.eventlog.deadletter import parse_dead_letter
from services.eventlog.topics import DEADLETTER


@dataclass(frozen=True)
class Message:
    """What the recorder needs of a Kafka message."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass
class Batch:
    """A batch sorted into what gets archived and what gets dead-lettered."""

    events: list = field(default_factory=list)
    dead_letters: list[deadletter_pb2.DeadLetter] = field(default_factory=list)
    rejected: list[tuple[Message, RejectedMessage]] = field(default_factory=list)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)


def sort_batch(messages: list[Message]) -> Batch:
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


def _parse_dead_letter(message: Message) -> deadletter_pb2.DeadLetter:
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
