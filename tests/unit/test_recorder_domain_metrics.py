"""The recorder's domain metrics on the in-memory log and archive: each archived event counted
once, whoever archived it, with its trajectory's labels; redelivery and restarts count nothing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.codec import encode
from services.eventlog.events import new_event
from services.eventlog.memory_reader import InMemoryLog, InMemoryReader
from services.eventlog.topics import key_for, topic_for
from services.recorder.app import run
from services.recorder.run_labels import RunLabelCache
from services.recorder.settings import RecorderSettings

pytestmark = pytest.mark.timeout(10)

SETTINGS = RecorderSettings(
    recorder_poll_ms=5, recorder_batch_size=3, recorder_metrics_poll_ms=5, recorder_zero_hold_ms=0
)


class Run:
    """Events of one trajectory of a task of its own, so no other test shares its labels."""

    def __init__(self, **labels: str) -> None:
        self.task = f"task-{uuid.uuid4().hex[:8]}"
        self.trajectory_id = f"t-{uuid.uuid4().hex[:8]}"
        self.labels = labels

    def _event(self, body) -> pb.Event:
        return new_event(body, trajectory_id=self.trajectory_id, service="test")

    def started(self) -> pb.Event:
        policy = pb.ModelSpec(backend="scripted", model="script")
        body = pb.TrajectoryStarted(task_id=self.task, policy=policy, labels=self.labels)
        return self._event(body)

    def step(self, index: int) -> pb.Event:
        call = pb.ToolCall(call_id=f"c{index}", name="bash", arguments_json='{"command":"ls"}')
        body = pb.ActionProposed(step_index=index, tool_call=call, prompt_digest="sha256:0")
        return self._event(body)

    def guidance(self, channel: str = "web") -> pb.Event:
        body = pb.GuidanceSubmitted(
            annotator="ann", kind=pb.GUIDANCE_KIND_CORRECTION, text="no", channel=channel
        )
        return self._event(body)

    def ended(self) -> pb.Event:
        return self._event(pb.TrajectoryEnded(reason=pb.END_REASON_FINISHED, final_score=80))

    def judged(self, step: pb.Event, ruleset: str, *rules: str) -> pb.Event:
        reasons = [pb.JudgeReason(rule_id=rule) for rule in rules]
        verdict = pb.VERDICT_MASK if rules else pb.VERDICT_KEEP
        body = pb.ActionJudged(
            action_id=step.event_id, ruleset_version=ruleset, verdict=verdict, reasons=reasons
        )
        return self._event(body)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def steps(run: Run, experiment: str = "") -> float:
    labels = {"backend": "scripted", "experiment": experiment, "purpose": "collection"}
    return value("apollo_domain_steps_total", task=run.task, **labels)


def guidance(run: Run, channel: str = "web") -> float:
    return value(
        "apollo_domain_guidance_total",
        task=run.task,
        kind="correction",
        channel=channel,
        experiment="",
        purpose="collection",
    )


async def publish(log: InMemoryLog, *events: pb.Event) -> None:
    for event in events:
        await log.publish_raw(topic_for(event).name, key_for(event), encode(event))


async def settled(archive: InMemoryArchive, count: int) -> None:
    """Wait until `count` events are archived and the metrics had time to count them."""
    async with asyncio.timeout(5):
        while await archive.count() < count:
            await asyncio.sleep(0.005)
    # Several of the counter's polls, so anything it would count twice shows.
    await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def recording(log: InMemoryLog, archive: InMemoryArchive) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(
        run(SETTINGS, stop, archive=archive, reader=InMemoryReader(log), dead_letters=log)
    )
    try:
        yield
    finally:
        stop.set()
        await task


async def test_a_guided_run_is_counted_under_its_task_and_labels() -> None:
    log, archive, run_ = InMemoryLog(), InMemoryArchive(), Run(experiment="ablation-a")
    events = [run_.started(), run_.step(0), run_.guidance(), run_.step(1), run_.ended()]
    await publish(log, *events)
    async with recording(log, archive):
        await settled(archive, len(events))

    assert steps(run_, experiment="ablation-a") == 2
    assert steps(run_) == 0
    labels = {"experiment": "ablation-a", "purpose": "collection"}
    started = {"backend": "scripted", **labels}
    assert value("apollo_domain_trajectories_started_total", task=run_.task, **started) == 1
    ended = {"status": "finished", **labels}
    assert value("apollo_domain_trajectories_ended_total", task=run_.task, **ended) == 1
    assert (
        value(
            "apollo_domain_guidance_total",
            task=run_.task,
            kind="correction",
            channel="web",
            **labels,
        )
        == 1
    )


async def test_redelivered_events_are_counted_once() -> None:
    log, archive, run_ = InMemoryLog(), InMemoryArchive(), Run()
    events = [run_.started(), run_.step(0), run_.guidance()]
    await publish(log, *events, *events)
    async with recording(log, archive):
        await settled(archive, len(events))
        await publish(log, *events)
        await settled(archive, len(events))

    assert (steps(run_), guidance(run_)) == (1, 1)


async def test_a_restart_counts_only_what_is_archived_after_it() -> None:
    log, archive, run_ = InMemoryLog(), InMemoryArchive(), Run()
    await publish(log, run_.started(), run_.step(0))
    async with recording(log, archive):
        await settled(archive, 2)
    assert steps(run_) == 1

    # Rehydrated into an empty broker: the same events again, then one new step.
    log = InMemoryLog()
    await publish(log, *[record.event async for record in archive.iter_all()], run_.step(1))
    async with recording(log, archive):
        await settled(archive, 3)

    # The new step is counted under the task read back from the archived start.
    assert steps(run_) == 2


async def test_events_archived_before_they_are_published_are_counted_once() -> None:
    # The command line archives imports, datasets and scores first, then publishes them.
    log, archive, run_ = InMemoryLog(), InMemoryArchive(), Run()
    await publish(log, run_.started())
    imported = [run_.step(0), run_.guidance(channel="cli")]
    async with recording(log, archive):
        await settled(archive, 1)
        await archive.append([(topic_for(e).name, e) for e in imported])
        await publish(log, *imported)
        await settled(archive, 1 + len(imported))

    assert (steps(run_), guidance(run_, channel="cli")) == (1, 1)


async def test_verdicts_are_counted_by_ruleset_verdict_and_rule() -> None:
    log, archive, run_ = InMemoryLog(), InMemoryArchive(), Run()
    ruleset = f"sha256:{uuid.uuid4().hex}"
    first, second = run_.step(0), run_.step(1)
    verdicts = [
        run_.judged(first, ruleset, "repeated-poll", "repeated-poll", "llm-judge"),
        run_.judged(second, ruleset),
    ]
    await publish(log, run_.started(), first, second, *verdicts, *verdicts)
    async with recording(log, archive):
        await settled(archive, 5)

    assert value("apollo_domain_verdicts_total", ruleset=ruleset, verdict="mask") == 1
    assert value("apollo_domain_verdicts_total", ruleset=ruleset, verdict="keep") == 1
    rules = "apollo_domain_verdict_rules_total"
    # A rule named twice among one verdict's reasons counts that verdict once.
    assert value(rules, ruleset=ruleset, verdict="mask", rule="repeated-poll") == 1
    assert value(rules, ruleset=ruleset, verdict="mask", rule="llm-judge") == 1


async def test_datasets_and_evaluation_scores_are_counted() -> None:
    log, archive = InMemoryLog(), InMemoryArchive()
    variant, ruleset = f"variant-{uuid.uuid4().hex[:8]}", f"sha256:{uuid.uuid4().hex}"
    built = pb.DatasetBuilt(
        dataset_id="d", ruleset_version=ruleset, react_samples=7, dropped_samples=1, format="trl"
    )
    scores = [
        pb.EvaluationScored(checkpoint_id="c", task_id="t", final_score=score, variant=variant)
        for score in (40.0, 70.0)
    ]
    events = [new_event(body, trajectory_id="", service="test") for body in (built, *scores)]
    await publish(log, *events)
    async with recording(log, archive):
        await settled(archive, len(events))

    assert value("apollo_domain_datasets_built_total", ruleset=ruleset, format="trl") == 1
    score = {"task": "t", "variant": variant}
    assert value("apollo_domain_eval_score_count", **score) == 2
    assert value("apollo_domain_eval_score_sum", **score) == 110
    assert value("apollo_domain_eval_score_bucket", le="50.0", **score) == 1


async def test_the_label_cache_stays_bounded_and_reads_back_what_it_dropped() -> None:
    archive = InMemoryArchive()
    runs = [Run(experiment=f"e{n}") for n in range(3)]
    events = [*(run_.started() for run_ in runs), *(run_.step(0) for run_ in runs)]
    await archive.append([(topic_for(e).name, e) for e in events])
    steps = [(await archive.events(run_.trajectory_id))[1] for run_ in runs]
    cache = RunLabelCache(archive, size=2)

    await cache.load(steps)
    assert len(cache) == 2
    for run_, step in zip(runs, steps, strict=True):
        await cache.load([step])
        labels = cache.get(run_.trajectory_id)
        assert (labels.task, labels.experiment, labels.backend) == (
            run_.task,
            run_.labels["experiment"],
            "scripted",
        )
        assert len(cache) == 2


async def test_a_new_series_is_exported_at_zero_for_the_hold_before_it_counts() -> None:
    # rate() takes a series' first sample as its base: a first sample of 1 would hide a mask.
    log, archive, run_ = InMemoryLog(), InMemoryArchive(), Run()
    ruleset, step = f"sha256:{uuid.uuid4().hex}", run_.step(0)
    await publish(log, run_.started(), step, run_.judged(step, ruleset, "sleep-after-sleep"))
    held = SETTINGS.model_copy(update={"recorder_zero_hold_ms": 300})
    masks = {"ruleset": ruleset, "verdict": "mask"}
    stop = asyncio.Event()
    task = asyncio.create_task(
        run(held, stop, archive=archive, reader=InMemoryReader(log), dead_letters=log)
    )
    try:
        await settled(archive, 3)
        assert REGISTRY.get_sample_value("apollo_domain_verdicts_total", masks) == 0
        assert steps(run_) == 0
        async with asyncio.timeout(5):
            while value("apollo_domain_verdicts_total", **masks) < 1:
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await task
    # Held, not skipped: each event counted once, in order.
    assert (steps(run_), value("apollo_domain_verdicts_total", **masks)) == (1, 1)


async def test_a_recorded_ruleset_has_its_verdict_and_rule_series_at_zero() -> None:
    log, archive = InMemoryLog(), InMemoryArchive()
    ruleset = f"sha256:{uuid.uuid4().hex}"
    await archive.record_ruleset(ruleset, '{"rules":[{"id":"a","kind":"x"},{"id":"b"}]}')
    async with recording(log, archive):
        await asyncio.sleep(0.05)

    for verdict in ("keep", "mask"):
        labels = {"ruleset": ruleset, "verdict": verdict}
        assert REGISTRY.get_sample_value("apollo_domain_verdicts_total", labels) == 0
        for rule in ("a", "b"):
            rule_labels = {**labels, "rule": rule}
            assert REGISTRY.get_sample_value("apollo_domain_verdict_rules_total", rule_labels) == 0
