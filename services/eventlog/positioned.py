"""Positioned readers: partitions read from positions the reader chooses, with no consumer group.

The recorder (offsets kept in Postgres), the live tails, rehydrate and the dead-letter
reader all read this way: they commit nothing and never take partitions from services.
The Kafka adapter is `services.eventlog.kafka.readers`; `memory_reader` is the fake.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from apollo.v1 import events_pb2 as pb

# (topic, partition)
Partition = tuple[str, int]


class StartAt(enum.Enum):
    """Where a partition without a given offset starts."""

    BEGINNING = "beginning"
    END = "end"


@dataclass(frozen=True)
class LogMessage:
    """One message as read from a partition, before decoding."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class Fetched:
    """One fetch: messages in offset order per partition, and each partition's high-water mark."""

    messages: list[LogMessage] = field(default_factory=list)
    # The offset after the newest message on each partition, as of this fetch.
    highwater: dict[Partition, int] = field(default_factory=dict)

    def behind(self) -> dict[Partition, int]:
        """How many messages each partition fetched from still holds after this fetch."""
        last: dict[Partition, int] = {}
        for message in self.messages:
            last[(message.topic, message.partition)] = message.offset
        return {
            partition: max(self.highwater[partition] - offset - 1, 0)
            for partition, offset in last.items()
            if partition in self.highwater
        }


class ReaderNotReady(TimeoutError):
    """The broker did not tell a reader where its partitions end in time."""


class ReaderNotStarted(RuntimeError):
    """Fetching needs a started reader."""


class PositionedReader(Protocol):
    """Reads every partition of some topics from chosen positions (Kafka, or in memory)."""

    async def start(
        self,
        topics: Sequence[str],
        offsets: Mapping[Partition, int] | None = None,
        otherwise: StartAt = StartAt.BEGINNING,
    ) -> dict[Partition, int]:
        """Assign the topics' partitions at `offsets` (else `otherwise`); return their ends.

        Topics that do not exist are skipped. An offset past a partition's end restarts
        it from the beginning: re-reading is deduplicated downstream, skipping loses events.
        """

    async def fetch(self, max_records: int, timeout_ms: int) -> Fetched:
        """Up to `max_records` new messages, waiting at most `timeout_ms` for the first."""

    def saw(self, event: pb.Event) -> None:
        """An event the caller decoded from a fetch: a standby reader keeps its faster pace
        once quiet while a trajectory it has seen is running."""

    async def stop(self) -> None:
        """Release the partitions and the connection."""


@contextlib.asynccontextmanager
async def reading(
    reader: PositionedReader,
    topics: Sequence[str],
    offsets: Mapping[Partition, int] | None = None,
    otherwise: StartAt = StartAt.BEGINNING,
) -> AsyncIterator[dict[Partition, int]]:
    """Start `reader` for the block, yielding where its partitions ended at start."""
    ends = await reader.start(topics, offsets, otherwise)
    try:
        yield ends
    finally:
        await reader.stop()


async def read_until(
    reader: PositionedReader, ends: Mapping[Partition, int], timeout_ms: int = 500
) -> list[LogMessage]:
    """Every message of a reader started from the beginning, up to the given ends."""
    pending = {partition for partition, end in ends.items() if end > 0}
    messages: list[LogMessage] = []
    while pending:
        fetched = await reader.fetch(max_records=1000, timeout_ms=timeout_ms)
        for message in fetched.messages:
            partition = (message.topic, message.partition)
            if partition in pending and message.offset < ends[partition]:
                messages.append(message)
            if message.offset + 1 >= ends.get(partition, 0):
                pending.discard(partition)
    return messages
