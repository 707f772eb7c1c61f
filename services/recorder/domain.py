"""Domain metrics from the archive: every archived event counted once, by whoever archived it.

The recorder follows the archive by position, not its own appends: the command line archives
imports, dataset builds, re-judgements and evaluation scores before publishing them, so the
recorder reads those as duplicates. Positions follow commit order (appends take turns), so
paging by position counts each archived event exactly once; a restart resumes at the latest
position, so history is never counted again (Prometheus sees the usual counter reset).
An event that adds to a series not exported at zero long enough (zero_series.py) is not
skipped: counting stops before it and resumes there once the series has been scraped at zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import ArchivedEvent, EventArchive, end_status
from services.eventlog.verdict_model import verdict_name
from services.recorder import metrics
from services.recorder.run_labels import RunLabelCache, RunLabels
from services.recorder.zero_series import Bump, ZeroSeries

# The channels the gateway and the simulated annotator write; anything else is "other".
CHANNELS = frozenset({"web", "api", "cli", "grpc", "simulated"})
# The verdicts a ruleset's series start with at zero (verdict_name's spellings).
VERDICTS = ("keep", "mask")


def guidance_kind(kind: int) -> str:
    """The kind's label: advice, knowledge, correction or unspecified."""
    name = pb.GuidanceKind.Name(kind) if kind in pb.GuidanceKind.values() else "UNSPECIFIED"
    return name.removeprefix("GUIDANCE_KIND_").lower()


class DomainCounter:
    """Counts archived events into the domain metrics (documented in docs/metrics.md)."""

    def __init__(self, labels: RunLabelCache, series: ZeroSeries) -> None:
        self._labels = labels
        self._series = series
        self._rulesets: set[str] = set()
        self._bumps_of: dict[str, Callable[[ArchivedEvent], list[Bump]]] = {
            "trajectory_started": self._started,
            "action_proposed": self._step,
            "guidance_submitted": self._guidance,
            "trajectory_ended": self._ended,
            "action_judged": self._judged,
            "dataset_built": self._dataset,
            "evaluation_scored": self._evaluation,
        }

    async def load_rulesets(self, archive: EventArchive) -> None:
        """Export each newly recorded ruleset's verdict series, by verdict and rule, at zero."""
        for version in await archive.ruleset_versions():
            if version in self._rulesets:
                continue
            self._rulesets.add(version)
            document = json.loads(await archive.ruleset_document(version) or "{}")
            rules = [rule["id"] for rule in document.get("rules", [])]
            for verdict in VERDICTS:
                self._series.create(metrics.DOMAIN_VERDICTS, (version, verdict))
                for rule in rules:
                    self._series.create(metrics.DOMAIN_VERDICT_RULES, (version, verdict, rule))

    async def count(self, records: list[ArchivedEvent]) -> int:
        """Count a page of archived events in position order, up to the first that adds to a
        series not yet exported at zero for the hold; returns how many were counted."""
        await self._labels.load(records)
        planned = [(record, self._bumps(record)) for record in records]
        # Every new series of the page is created now, so the page waits one hold at most.
        for _, bumps in planned:
            for bump in bumps:
                self._series.create(bump.metric, bump.labels)
        for counted, (record, bumps) in enumerate(planned):
            if not self._series.ready(bumps):
                return counted
            for bump in bumps:
                bump.apply()
            if record.kind == "trajectory_ended":
                self._labels.forget(record.trajectory_id)
        return len(planned)

    def _bumps(self, record: ArchivedEvent) -> list[Bump]:
        bumps_of = self._bumps_of.get(record.kind)
        return [] if bumps_of is None else bumps_of(record)

    def _run(self, record: ArchivedEvent) -> RunLabels:
        return self._labels.get(record.trajectory_id)

    def _started(self, record: ArchivedEvent) -> list[Bump]:
        run = self._run(record)
        return [Bump(metrics.DOMAIN_STARTED, (run.task, run.backend, run.experiment, run.purpose))]

    def _step(self, record: ArchivedEvent) -> list[Bump]:
        run = self._run(record)
        return [Bump(metrics.DOMAIN_STEPS, (run.task, run.backend, run.experiment, run.purpose))]

    def _guidance(self, record: ArchivedEvent) -> list[Bump]:
        run, guidance = self._run(record), record.event.guidance_submitted
        channel = guidance.channel if guidance.channel in CHANNELS else "other"
        labels = (run.task, guidance_kind(guidance.kind), channel, run.experiment, run.purpose)
        return [Bump(metrics.DOMAIN_GUIDANCE, labels)]

    def _ended(self, record: ArchivedEvent) -> list[Bump]:
        run, status = self._run(record), end_status(record.event)
        return [Bump(metrics.DOMAIN_ENDED, (run.task, status, run.experiment, run.purpose))]

    def _judged(self, record: ArchivedEvent) -> list[Bump]:
        judged = record.event.action_judged
        ruleset, verdict = judged.ruleset_version, verdict_name(judged.verdict)
        rules = dict.fromkeys(reason.rule_id for reason in judged.reasons)
        return [
            Bump(metrics.DOMAIN_VERDICTS, (ruleset, verdict)),
            *(Bump(metrics.DOMAIN_VERDICT_RULES, (ruleset, verdict, rule)) for rule in rules),
        ]

    def _dataset(self, record: ArchivedEvent) -> list[Bump]:
        built = record.event.dataset_built
        samples = {
            "react": built.react_samples,
            "summary": built.summary_samples,
            "dropped": built.dropped_samples,
        }
        return [
            Bump(metrics.DOMAIN_DATASETS, (built.ruleset_version, built.format)),
            *(
                Bump(metrics.DOMAIN_DATASET_SAMPLES, (built.format, kind), count)
                for kind, count in samples.items()
            ),
        ]

    def _evaluation(self, record: ArchivedEvent) -> list[Bump]:
        scored = record.event.evaluation_scored
        labels = (scored.task_id, scored.variant)
        return [Bump(metrics.DOMAIN_EVAL_SCORE, labels, scored.final_score)]


async def count_archived(
    archive: EventArchive,
    counter: DomainCounter,
    stop: asyncio.Event,
    after: int,
    poll_seconds: float,
    page: int,
) -> None:
    """Count every event archived after position `after`, `page` at a time, until `stop`."""
    metrics.DOMAIN_POSITION.set(after)
    while not stop.is_set():
        await counter.load_rulesets(archive)
        after = await count_after(archive, counter, after, page)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll_seconds)


async def count_after(archive: EventArchive, counter: DomainCounter, after: int, page: int) -> int:
    """Count the events archived after position `after` up to the first that has to wait for
    its series; return the last position counted."""
    while records := await read_page(archive, after, page):
        counted = await counter.count(records)
        if counted:
            after = records[counted - 1].position
            metrics.DOMAIN_POSITION.set(after)
        if counted < page:
            return after
    return after


async def read_page(archive: EventArchive, after: int, page: int) -> list[ArchivedEvent]:
    """At most `page` events archived after position `after`, in position order."""
    records: list[ArchivedEvent] = []
    async with contextlib.aclosing(archive.iter_all(after_position=after, batch=page)) as events:
        async for record in events:
            records.append(record)
            if len(records) == page:
                break
    return records
