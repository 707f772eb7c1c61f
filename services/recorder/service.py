"""The recorder's consumer loop: Kafka in, one Postgres transaction per batch out."""

from __future__ import annotations

import asyncio
import time

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.eventlog.archive import EventArchive
from services.eventlog.bus import KafkaBus
from services.eventlog.deadletter import dead_letter_for
from services.eventlog.topics import ALL_TOPICS, DEADLETTER
from services.recorder import metrics
from services.recorder.recording import Batch, Message, archive_batch, sort_batch
from services.recorder.settings import RecorderSettings

log = structlog.get_logger(service="recorder")


class Recorder:
    """Archives every topic, resuming from the offsets stored with the archive."""

    def __init__(self, settings: RecorderSettings, archive: EventArchive, bus: KafkaBus) -> None:
        self._settings = settings
        self._archive = archive
        self._bus = bus
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka,
            group_id=None,  # offsets live in Postgres, committed with the events
            enable_auto_commit=False,
            # A position the broker calls out of range (Tansu answers offset lookups on a
            # just-created topic unreliably) restarts from the oldest record, never the
            # newest: re-reading is deduplicated, skipping would lose events.
            auto_offset_reset="earliest",
            fetch_max_wait_ms=settings.recorder_poll_ms,
            max_partition_fetch_bytes=16 * 1024 * 1024,
        )
        self.healthy = False

    async def run(self, stop: asyncio.Event) -> None:
        """Archive until `stop` is set."""
        await self._consumer.start()
        try:
            await self._assign()
            self.healthy = True
            while not stop.is_set():
                fetched = await self._consumer.getmany(
                    timeout_ms=self._settings.recorder_poll_ms,
                    max_records=self._settings.recorder_batch_size,
                )
                messages = [_message(m) for records in fetched.values() for m in records]
                if messages:
                    await self._record(messages)
                self._report_lag(fetched)
        finally:
            self.healthy = False
            await self._consumer.stop()

    async def _assign(self) -> None:
        await self._consumer.topics()  # refreshes the metadata partitions_for_topic reads
        partitions = [
            TopicPartition(topic.name, partition)
            for topic in ALL_TOPICS
            for partition in sorted(self._consumer.partitions_for_topic(topic.name) or ())
        ]
        self._consumer.assign(partitions)
        stored = await self._archive.load_offsets(self._settings.recorder_group)
        for partition in partitions:
            offset = stored.get((partition.topic, partition.partition))
            if offset is None:
                await self._consumer.seek_to_beginning(partition)
            else:
                self._consumer.seek(partition, offset)
        log.info("recorder assigned", partitions=len(partitions), resumed=len(stored))

    async def _record(self, messages: list[Message]) -> None:
        started = time.perf_counter()
        batch = sort_batch(messages)
        await self._dead_letter(batch)
        added = await archive_batch(self._archive, batch, self._settings.recorder_group)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        metrics.ARCHIVED.inc(added)
        metrics.DUPLICATES.inc(len(batch.events) - added)

    async def _dead_letter(self, batch: Batch) -> None:
        for message, rejection in batch.rejected:
            letter = dead_letter_for(message, rejection, self._settings.recorder_group)
            await self._bus.publish_raw(DEADLETTER.name, message.key, letter.SerializeToString())
            metrics.DEAD_LETTERS.labels(rejection.error_class).inc()
            log.warning(
                "dead-lettered",
                topic=message.topic,
                offset=message.offset,
                error_class=rejection.error_class,
                reason=rejection.reason,
            )

    def _report_lag(self, fetched: dict) -> None:
        # The high-water mark comes with each fetch, so lag costs no extra request.
        for partition, records in fetched.items():
            highwater = self._consumer.highwater(partition)
            if highwater is not None and records:
                behind = max(highwater - records[-1].offset - 1, 0)
                metrics.LAG.labels(partition.topic, str(partition.partition)).set(behind)


def _message(record) -> Message:
    return Message(record.topic, record.partition, record.offset, record.key, record.value)
