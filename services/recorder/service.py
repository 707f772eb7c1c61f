"""The recorder's loop: read every topic from the stored offsets, one transaction per batch."""

from __future__ import annotations

import asyncio

import structlog

from services.eventlog.archive import EventArchive
from services.eventlog.positioned import PositionedReader, reading
from services.eventlog.topics import ALL_TOPICS
from services.recorder import metrics
from services.recorder.domain import DomainCounter, count_archived
from services.recorder.handlers import record_batch
from services.recorder.ports import RawPublisher
from services.recorder.run_labels import RunLabelCache
from services.recorder.settings import DOMAIN_PAGE, RecorderSettings
from services.recorder.zero_series import ZeroSeries

log = structlog.get_logger(service="recorder")


class Recorder:
    """Archives every topic, resuming from the offsets stored with the archive."""

    def __init__(
        self,
        settings: RecorderSettings,
        archive: EventArchive,
        reader: PositionedReader,
        dead_letters: RawPublisher,
    ) -> None:
        self._settings = settings
        self._archive = archive
        self._reader = reader
        self._dead_letters = dead_letters
        self.healthy = False

    async def run(self, stop: asyncio.Event) -> None:
        """Archive, and count what is archived into the domain metrics, until `stop` is set."""
        # Read before the first append: what is archived from here on is counted, once.
        counted_up_to = await self._archive.last_position()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._archive_log(stop))
            tasks.create_task(self._count_archived(stop, counted_up_to))

    async def _count_archived(self, stop: asyncio.Event, after: int) -> None:
        labels = RunLabelCache(self._archive, self._settings.recorder_label_cache_size)
        counter = DomainCounter(labels, ZeroSeries(self._settings.recorder_zero_hold_ms / 1000))
        poll_seconds = self._settings.recorder_metrics_poll_ms / 1000
        await count_archived(self._archive, counter, stop, after, poll_seconds, DOMAIN_PAGE)

    async def _archive_log(self, stop: asyncio.Event) -> None:
        group = self._settings.recorder_group
        # Offsets live in Postgres, committed in the same transaction as the events.
        stored = await self._archive.load_offsets(group)
        async with reading(self._reader, [t.name for t in ALL_TOPICS], stored) as ends:
            log.info("recorder assigned", partitions=len(ends), resumed=len(stored))
            self.healthy = True
            try:
                while not stop.is_set():
                    await self._record_next(group)
            finally:
                self.healthy = False

    async def _record_next(self, group: str) -> None:
        fetched = await self._reader.fetch(
            max_records=self._settings.recorder_batch_size,
            timeout_ms=self._settings.recorder_poll_ms,
        )
        if fetched.messages:
            batch = await record_batch(fetched.messages, self._archive, self._dead_letters, group)
            for _, event in batch.events:
                self._reader.saw(event)
        # The high-water mark comes with each fetch, so lag costs no extra request.
        for (topic, partition), behind in fetched.behind().items():
            metrics.LAG.labels(topic, str(partition)).set(behind)
