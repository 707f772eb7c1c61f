"""The positioned reader on Kafka: one group-less aiokafka consumer with manual assignment."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from apollo.v1 import events_pb2 as pb
from services.eventlog.kafka.fetch_wait import PacedFetchWait
from services.eventlog.positioned import (
    Fetched,
    LogMessage,
    Partition,
    ReaderNotReady,
    ReaderNotStarted,
    StartAt,
)

log = structlog.get_logger(__name__)

# Reading a backlog that is already on the broker: Tansu answers a fetch with whatever it
# gathered when the wait ran out, so a 5 ms wait returns about one batch per fetch and,
# deep in a long partition, often none at all (10,000 one-record batches took 30-290 s at
# 5 ms, under a second at 300 ms). A reader that only catches up can afford a long wait.
CATCH_UP_FETCH_WAIT_MS = 300


class KafkaReader:
    """Reads partitions from chosen positions; commits nothing and joins no group."""

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "apollo-reader",
        # Tansu is slow to wake a long poll when a message arrives, so poll often while
        # messages flow; the pacing slows down once they stop.
        fetch_max_wait_ms: int = 5,
        # A dead letter carries the raw message, which may itself be over 1 MiB.
        max_partition_fetch_bytes: int = 8 * 1024 * 1024,
        ready_timeout_s: float = 30.0,
        # Stand by once quiet while a trajectory runs (see `saw`), like a standby subscriber.
        standby: bool = False,
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._poll_ms = fetch_max_wait_ms
        self._max_partition_fetch_bytes = max_partition_fetch_bytes
        self._ready_timeout_s = ready_timeout_s
        self._consumer: AIOKafkaConsumer | None = None
        self._assigned: list[TopicPartition] = []
        self._paced = PacedFetchWait.for_wait(
            fetch_max_wait_ms, lambda: self._consumer, standby=standby
        )

    async def start(
        self,
        topics: Sequence[str],
        offsets: Mapping[Partition, int] | None = None,
        otherwise: StartAt = StartAt.BEGINNING,
    ) -> dict[Partition, int]:
        """Assign the topics' partitions at `offsets` (else `otherwise`); return their ends."""
        self._consumer = self._connect()
        await self._consumer.start()
        try:
            await self._consumer.topics()  # fills the metadata partitions_for_topic reads
            self._assigned = [
                TopicPartition(topic, partition)
                for topic in topics
                for partition in sorted(self._consumer.partitions_for_topic(topic) or ())
            ]
            self._consumer.assign(self._assigned)
            ends = await self._highwaters()
            await self._seek(offsets or {}, otherwise, ends)
        except BaseException:
            await self.stop()
            raise
        self._paced.activity()  # catching up is likely right after positioning
        log.debug("reader assigned", partitions=len(self._assigned), resumed=len(offsets or {}))
        return {(tp.topic, tp.partition): end for tp, end in ends.items()}

    async def fetch(self, max_records: int, timeout_ms: int) -> Fetched:
        """Up to `max_records` new messages, waiting at most `timeout_ms` for the first."""
        if self._consumer is None:
            raise ReaderNotStarted("start the reader before fetching")
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        messages = [
            LogMessage(r.topic, r.partition, r.offset, r.key, r.value)
            for records in batches.values()
            for r in records
        ]
        if messages:
            self._paced.activity()
        highwater = {}
        for tp in self._assigned:
            if (mark := self._consumer.highwater(tp)) is not None:
                highwater[(tp.topic, tp.partition)] = mark
        return Fetched(messages, highwater)

    @property
    def standby(self) -> bool:
        """Whether it stands by once quiet while a trajectory it saw runs."""
        return self._paced.running is not None

    def saw(self, event: pb.Event) -> None:
        """An event the caller decoded from a fetch: whether it runs or ends a trajectory
        sets a standby reader's pace once quiet."""
        self._paced.saw(event)

    async def stop(self) -> None:
        """Release the partitions and the connection."""
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    def _connect(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            # A position the broker calls out of range (Tansu answers offset lookups on a
            # just-created topic unreliably) restarts from the oldest record, never the
            # newest: re-reading is deduplicated, skipping would lose events.
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self._poll_ms,
            max_partition_fetch_bytes=self._max_partition_fetch_bytes,
        )

    async def _highwaters(self) -> dict[TopicPartition, int]:
        # Tansu reports the base offset of a partition's last record batch as its end
        # offset, so the end is taken from the high-water mark a fetch returns instead.
        await self._consumer.seek_to_end(*self._assigned)  # near the end: little to fetch
        ends: dict[TopicPartition, int] = {}
        try:
            async with asyncio.timeout(self._ready_timeout_s):
                while len(ends) < len(self._assigned):
                    await self._consumer.getmany(timeout_ms=self._poll_ms)
                    for tp in self._assigned:
                        if (mark := self._consumer.highwater(tp)) is not None:
                            ends[tp] = mark
        except TimeoutError:
            raise ReaderNotReady(
                f"the broker at {self._bootstrap} gave no high-water mark for "
                f"{len(self._assigned) - len(ends)} partition(s) within "
                f"{self._ready_timeout_s}s: is it up and answering fetches?"
            ) from None
        return ends

    async def _seek(
        self, offsets: Mapping[Partition, int], otherwise: StartAt, ends: dict[TopicPartition, int]
    ) -> None:
        from_beginning = []
        for tp in self._assigned:
            offset = offsets.get((tp.topic, tp.partition))
            if offset is None and otherwise is StartAt.END:
                offset = ends[tp]
            if offset is not None and offset > ends[tp]:
                # Tansu answers a fetch past the end with nothing instead of out-of-range.
                log.warning("offset past the end", topic=tp.topic, offset=offset, end=ends[tp])
                offset = None
            if offset is None:
                from_beginning.append(tp)
            else:
                self._consumer.seek(tp, offset)
        if from_beginning:
            await self._consumer.seek_to_beginning(*from_beginning)
        for tp in self._assigned:  # resolve now, so "the end" is the end at start
            await self._consumer.position(tp)
