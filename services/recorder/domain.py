"""Domain metrics from the archive: every archived event counted once, by whoever archived it.

The recorder follows the archive by position, not its own appends: the command line archives
imports, dataset builds, re-judgements and evaluation scores before publishing them, so the
recorder reads those as duplicates. Positions follow commit order (appends take turns), so
paging by position counts each archived event exactly once; a restart resumes at the latest
position, so history is never counted again (Prometheus sees the usual counter reset).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import ArchivedEvent, EventArchive, end_status
from services.eventlog.verdict_model import verdict_name
from services.recorder import metrics
from services.recorder.run_labels import RunLabelCache, RunLabels

# The channels the gateway and the simulated annotator write; anything else is "other".
CHANNELS = frozenset({"web", "api", "cli", "grpc", "simulated"})


def guidance_kind(kind: int) -> str:
    """The kind's label: advice, knowledge, correction or unspecified."""
    name = pb.GuidanceKind.Name(kind) if kind in pb.GuidanceKind.values() else "UNSPECIFIED"
    return name.removeprefix("GUIDANCE_KIND_").lower()


class DomainCounter:
    """Counts archived events into the domain metrics (documented in docs/metrics.md)."""

    def __init__(self, labels: RunLabelCache) -> None:
        self._labels = labels
        self._count_kind: dict[str, Callable[[ArchivedEvent], None]] = {
            "trajectory_started": self._started,
            "action_proposed": self._step,
            "guidance_submitted": self._guidance,
            "trajectory_ended": self._ended,
            "action_judged": self._judged,
            "dataset_built": self._dataset,
            "evaluation_scored": self._evaluation,
        }

    async def count(self, records: list[ArchivedEvent]) -> None:
        """Count one page of archived events, in position order."""
        await self._labels.load(records)
        for record in records:
            count = self._count_kind.get(record.kind)
            if count is not None:
                count(record)

    def _run(self, record: ArchivedEvent) -> RunLabels:
        return self._labels.get(record.trajectory_id)

    def _started(self, record: ArchivedEvent) -> None:
        run = self._run(record)
        metrics.DOMAIN_STARTED.labels(run.task, run.backend, run.experiment, run.purpose).inc()

    def _step(self, record: ArchivedEvent) -> None:
        run = self._run(record)
        metrics.DOMAIN_STEPS.labels(run.task, run.backend, run.experiment, run.purpose).inc()

    def _guidance(self, record: ArchivedEvent) -> None:
        run, guidance = self._run(record), record.event.guidance_submitted
        channel = guidance.channel if guidance.channel in CHANNELS else "other"
        kind = guidance_kind(guidance.kind)
        metrics.DOMAIN_GUIDANCE.labels(run.task, kind, channel, run.experiment, run.purpose).inc()

    def _ended(self, record: ArchivedEvent) -> None:
        run, status = self._run(record), end_status(record.event)
        metrics.DOMAIN_ENDED.labels(run.task, status, run.experiment, run.purpose).inc()
        self._labels.forget(record.trajectory_id)

    def _judged(self, record: ArchivedEvent) -> None:
        judged = record.event.action_judged
        ruleset, verdict = judged.ruleset_version, verdict_name(judged.verdict)
        metrics.DOMAIN_VERDICTS.labels(ruleset, verdict).inc()
        for rule in dict.fromkeys(reason.rule_id for reason in judged.reasons):
            metrics.DOMAIN_VERDICT_RULES.labels(ruleset, verdict, rule).inc()

    def _dataset(self, record: ArchivedEvent) -> None:
        built = record.event.dataset_built
        metrics.DOMAIN_DATASETS.labels(built.ruleset_version, built.format).inc()
        for kind, samples in (
            ("react", built.react_samples),
            ("summary", built.summary_samples),
            ("dropped", built.dropped_samples),
        ):
            metrics.DOMAIN_DATASET_SAMPLES.labels(built.format, kind).inc(samples)

    def _evaluation(self, record: ArchivedEvent) -> None:
        scored = record.event.evaluation_scored
        metrics.DOMAIN_EVAL_SCORE.labels(scored.task_id, scored.variant).observe(scored.final_score)


async def count_archived(
    archive: EventArchive,
    counter: DomainCounter,
    stop: asyncio.Event,
    after: int,
    poll_seconds: float,
    page: int,
) -> None:
    """Count every event archived after position `after`, `page` at a time, until `stop`."""
    while not stop.is_set():
        after = await count_after(archive, counter, after, page)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll_seconds)


async def count_after(archive: EventArchive, counter: DomainCounter, after: int, page: int) -> int:
    """Count the events archived after position `after`; return the last position counted."""
    records: list[ArchivedEvent] = []
    async for record in archive.iter_all(after_position=after, batch=page):
        records.append(record)
        if len(records) == page:
            await counter.count(records)
            after, records = record.position, []
    if records:
        await counter.count(records)
        after = records[-1].position
    return after
