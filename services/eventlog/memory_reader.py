"""The positioned reader in memory: a broker's partitions as lists, for unit tests."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Iterable, Mapping, Sequence

from apollo.v1 import events_pb2 as pb
from services.eventlog.positioned import (
    Fetched,
    LogMessage,
    Partition,
    ReaderNotStarted,
    StartAt,
)
from services.eventlog.topics import ALL_TOPICS, Topic


class UnknownTopic(LookupError):
    """Publishing to a topic the in-memory log was not created with."""


class InMemoryLog:
    """Topics and their partitions in memory; publishes raw messages like a broker takes them."""

    def __init__(self, topics: Iterable[Topic] = ALL_TOPICS) -> None:
        self._partitions: dict[str, list[list[LogMessage]]] = {}
        self.appended = asyncio.Condition()
        for topic in topics:
            self.create(topic)

    def create(self, topic: Topic) -> None:
        """Add a topic with its partitions, if it is missing (as `ensure_topics` does)."""
        self._partitions.setdefault(topic.name, [[] for _ in range(topic.partitions)])

    def partitions(self, topic: str) -> list[list[LogMessage]]:
        """The partitions of a topic (none if it does not exist)."""
        return self._partitions.get(topic, [])

    def messages(self, topic: str) -> list[LogMessage]:
        """Everything published on a topic so far, partition by partition (for assertions)."""
        return [message for partition in self.partitions(topic) for message in partition]

    async def publish_raw(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Append bytes as they are to the partition their key hashes to."""
        if topic not in self._partitions:
            raise UnknownTopic(f"topic {topic!r} does not exist; create the log with it")
        partitions = self._partitions[topic]
        index = zlib.crc32(key) % len(partitions) if key is not None else 0
        log = partitions[index]
        log.append(LogMessage(topic, index, len(log), key, value))
        async with self.appended:
            self.appended.notify_all()


class InMemoryReader:
    """KafkaReader's positions and fetch rules over an `InMemoryLog`."""

    def __init__(self, log: InMemoryLog) -> None:
        self._log = log
        self._positions: dict[Partition, int] | None = None

    async def start(
        self,
        topics: Sequence[str],
        offsets: Mapping[Partition, int] | None = None,
        otherwise: StartAt = StartAt.BEGINNING,
    ) -> dict[Partition, int]:
        """Assign the topics' partitions at `offsets` (else `otherwise`); return their ends."""
        ends = {
            (topic, index): len(partition)
            for topic in topics
            for index, partition in enumerate(self._log.partitions(topic))
        }
        self._positions = {}
        for partition, end in ends.items():
            offset = (offsets or {}).get(partition)
            if offset is None:
                offset = end if otherwise is StartAt.END else 0
            # Past the end restarts from the beginning, as the Kafka reader does.
            self._positions[partition] = offset if offset <= end else 0
        return ends

    async def fetch(self, max_records: int, timeout_ms: int) -> Fetched:
        """Up to `max_records` new messages, waiting at most `timeout_ms` for the first."""
        if self._positions is None:
            raise ReaderNotStarted("start the reader before fetching")
        if not self._available():
            async with self._log.appended:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._log.appended.wait_for(self._available), timeout_ms / 1000
                    )
        messages: list[LogMessage] = []
        for (topic, index), position in self._positions.items():
            taken = self._log.partitions(topic)[index][position:][: max_records - len(messages)]
            messages.extend(taken)
            self._positions[(topic, index)] = position + len(taken)
        return Fetched(messages, self._ends())

    def saw(self, event: pb.Event) -> None:
        """Nothing to pace: a fetch here waits on the log itself."""

    async def stop(self) -> None:
        """Forget the positions."""
        self._positions = None

    def _ends(self) -> dict[Partition, int]:
        return {
            (topic, index): len(self._log.partitions(topic)[index])
            for topic, index in self._positions or {}
        }

    def _available(self) -> bool:
        ends = self._ends()
        return any(ends[p] > position for p, position in (self._positions or {}).items())
