"""The live judge on the embedded stack: a scripted run with injected bad actions, next to
the plain reference run, is judged under `default`; exactly the injected ones are masked.
The recorder's domain metrics count each archived step and verdict once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from apollo.v1 import events_pb2 as pb
from services.cli.stack.home import ApolloHome
from services.cli.stack.state import StackState
from services.eventlog.bus import KafkaBus
from services.eventlog.pg_archive import PgArchive
from services.judge.ruleset import shipped_ruleset
from services.tasks.packs import TaskCatalog
from services.tasks.starting import started_event
from tests.e2e.apollo_cli import apollo
from tests.e2e.conftest import AGENT_SERVICES, embedded_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

TASK = "data-filtering-dedup"
JUDGED_TIMEOUT_S = 150
POLL_S = 0.2
SLEEP = ("sleep", {"seconds": 0.1})
# Where each bad call goes in the reference (index of the reference step it precedes), and
# the calls; only the last of each group is bad, the ones before it set it up.
INJECTED = {
    1: [SLEEP, SLEEP],  # sleep right after sleep
    2: [("open_file", {"path": "no_such_file.txt"})],  # a path that does not exist
    3: [("think", {"thought": "dedup first"}), ("think", {"thought": "then filter"})],
    5: [("eval", {})],  # after the reference's eval, nothing edited since
}


@pytest.fixture(scope="module")
def judged_stack() -> Iterator[Path]:
    """The agent's services and the judge."""
    with embedded_stack(f"{AGENT_SERVICES},judge") as home:
        yield home


def with_bad_actions(reference: list[tuple[str, dict]]) -> tuple[list[tuple[str, dict]], set[int]]:
    """The reference with the INJECTED calls inserted, and the step indices of the bad ones."""
    script: list[tuple[str, dict]] = []
    bad: set[int] = set()
    for position, call in enumerate(reference):
        for inserted in INJECTED.get(position, []):
            script.append(inserted)
        if position in INJECTED:
            bad.add(len(script) - 1)
        script.append(call)
    return script, bad


def start(script: list[tuple[str, dict]]) -> pb.Event:
    """A scripted run of TASK with this script."""
    return started_event(
        TaskCatalog().get(TASK),
        "scripted:reference",
        started_by="e2e-live-judge",
        service="e2e-live-judge",
        script=script,
    )


async def judged_run(dsn: str, trajectory_id: str) -> list[pb.Event]:
    """The trajectory's archived events once it ended and every action has its verdict."""
    archive = await PgArchive.connect(dsn)
    try:
        deadline = time.monotonic() + JUDGED_TIMEOUT_S
        while True:
            events = [record.event for record in await archive.events(trajectory_id)]
            actions = sum(event.HasField("action_proposed") for event in events)
            verdicts = sum(event.HasField("action_judged") for event in events)
            ended = any(event.HasField("trajectory_ended") for event in events)
            if ended and actions and verdicts >= actions:
                return events
            assert time.monotonic() < deadline, (
                f"not judged in {JUDGED_TIMEOUT_S} s: ended={ended}, {verdicts}/{actions} verdicts"
            )
            await asyncio.sleep(POLL_S)
    finally:
        await archive.close()


def masked_steps(events: list[pb.Event], version: str) -> dict[int, list[str]]:
    """Per masked step, the rules that fired, from the archived verdicts of one version."""
    verdicts = [e.action_judged for e in events if e.HasField("action_judged")]
    assert {v.ruleset_version for v in verdicts} == {version}
    return {
        v.step_index: [reason.rule_id for reason in v.reasons]
        for v in verdicts
        if v.verdict == pb.VERDICT_MASK
    }


def failures(events: list[pb.Event]) -> dict[int, str]:
    """Per failed step, the sandbox's error message (what to look at when a mask surprises)."""
    return {
        e.observation_recorded.step_index: e.observation_recorded.error_message
        for e in events
        if e.HasField("observation_recorded") and not e.observation_recorded.success
    }


async def test_the_live_judge_masks_exactly_the_injected_bad_actions(judged_stack: Path) -> None:
    state = StackState.load(ApolloHome(judged_stack).state_file)
    assert state is not None
    reference = [(step.tool, dict(step.arguments)) for step in TaskCatalog().get(TASK).reference()]
    script, bad = with_bad_actions(reference)
    plain, injected = start(reference), start(script)
    async with KafkaBus(state.broker_address, client_id="e2e-live-judge") as bus:
        await bus.publish_many([plain, injected])

    version = shipped_ruleset("default").version
    plain_events = await judged_run(state.postgres_dsn, plain.trajectory_id)
    injected_events = await judged_run(state.postgres_dsn, injected.trajectory_id)

    assert masked_steps(plain_events, version) == {}, failures(plain_events)
    masked = masked_steps(injected_events, version)
    assert set(masked) == bad, (masked, failures(injected_events))
    verdict_ids = [e.event_id for e in injected_events if e.HasField("action_judged")]
    assert len(verdict_ids) == len(set(verdict_ids)) == len(script)
    status = json.loads(apollo(judged_stack, "status", "--json").stdout)
    assert status["services"]["judge"] == {"ok": True}


def recorder_samples(state: StackState) -> dict[tuple[str, frozenset], float]:
    """The recorder's domain metric samples, by name and labels."""
    port = state.services["recorder"].metrics_port
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("apollo_domain_")
    }


async def counted_everything(state: StackState) -> None:
    """Wait until the recorder has counted every event archived so far."""
    archive = await PgArchive.connect(state.postgres_dsn)
    try:
        archived = await archive.last_position()
    finally:
        await archive.close()
    deadline = time.monotonic() + 30
    while counted(recorder_samples(state), "apollo_domain_counted_position") < archived:
        assert time.monotonic() < deadline, "the recorder did not count the archive"
        await asyncio.sleep(POLL_S)


def counted(samples: dict, name: str, **labels: str) -> float:
    """The sum of a metric's samples that carry these labels."""
    wanted = set(labels.items())
    return sum(v for (n, sample), v in samples.items() if n == name and wanted <= sample)


async def test_the_recorder_counts_each_archived_step_and_verdict_once(judged_stack: Path) -> None:
    state = StackState.load(ApolloHome(judged_stack).state_file)
    assert state is not None
    version = shipped_ruleset("default").version
    # The earlier test's events may still wait for a new series to be scraped at zero.
    await counted_everything(state)
    before = recorder_samples(state)
    reference = [(step.tool, dict(step.arguments)) for step in TaskCatalog().get(TASK).reference()]
    plain = start(reference)
    async with KafkaBus(state.broker_address, client_id="e2e-live-judge") as bus:
        await bus.publish(plain)
    events = await judged_run(state.postgres_dsn, plain.trajectory_id)
    archived = {
        "apollo_domain_steps_total": sum(e.HasField("action_proposed") for e in events),
        "apollo_domain_verdicts_total": sum(e.HasField("action_judged") for e in events),
        "apollo_domain_trajectories_ended_total": 1,
    }
    labels = {
        "apollo_domain_steps_total": {"task": TASK, "backend": "scripted"},
        "apollo_domain_verdicts_total": {"ruleset": version},
        "apollo_domain_trajectories_ended_total": {"task": TASK, "status": "finished"},
    }

    def added(samples: dict) -> dict[str, float]:
        return {
            name: counted(samples, name, **labels[name]) - counted(before, name, **labels[name])
            for name in archived
        }

    # The recorder counts what it archived within a second or so; wait, then wait more to
    # see nothing counted twice.
    deadline = time.monotonic() + 30
    while added(recorder_samples(state)) != archived and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
    await asyncio.sleep(2)
    assert added(recorder_samples(state)) == archived
