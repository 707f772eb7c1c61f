"""The live judge on the in-memory bus: verdicts once per action and version, when due."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import REGISTRY

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.codec import decode
from services.eventlog.memory_bus import InMemoryBus
from services.eventlog.processed import InMemoryProcessedEvents
from services.eventlog.topics import TRAJECTORIES, VERDICTS
from services.judge.handlers import ROUTES
from services.judge.history import ArchiveHistory
from services.judge.ruleset import Ruleset, load_ruleset, shipped_ruleset
from services.judge.service import JudgeService
from services.judge.settings import JudgeSettings
from services.judge.verdicts import verdict_event_id
from services.trajectory.fold import LOG_KINDS
from services.trajectory.state import IMPORTED_FROM_LABEL
from tests.judge.conftest import Call, Say, ScriptedRun

pytestmark = pytest.mark.timeout(20)

GROUP = "judge-test"
# A lookahead of two steps: the correction rule waits for them.
RULESET = Ruleset.model_validate(
    {
        "rules": [
            {"id": "sleep-after-sleep", "kind": "back_to_back", "verdict": "mask", "tool": "sleep"},
            {
                "id": "human-correction",
                "kind": "correction_rejects",
                "verdict": "mask",
                "within_steps": 2,
            },
        ]
    }
)
SLEEP = Call("sleep", {"seconds": 1})
THINK = Call("think", {"thought": "next"})
# Step 2 sleeps right after a sleep; a correction after step 3 rejects it.
SCRIPT = (THINK, SLEEP, SLEEP, THINK, Say("no, stop that", kind=pb.GUIDANCE_KIND_CORRECTION))
SCRIPT += (THINK, Call("finish", {}))
MASKED = {2: ["sleep-after-sleep"], 3: ["human-correction"]}


class Forgetful(InMemoryProcessedEvents):
    """A processed-events store that remembers nothing: every delivery is handled again."""

    async def seen(self, consumer: str, event_id: str) -> bool:
        return False


class Stack:
    """A bus, the archive the recorder would keep, and one judge process on them."""

    def __init__(self, bus: InMemoryBus, archive: InMemoryArchive) -> None:
        self.bus = bus
        self.archive = archive
        self.judge = JudgeService(bus, RULESET, GROUP, ArchiveHistory(archive))

    async def publish(self, *events: pb.Event) -> None:
        """Publish log events and wait until the judge handled all of them."""
        await self.bus.publish_many(events)
        deadline = time.monotonic() + 10
        while self.bus._committed.get((GROUP, TRAJECTORIES.name), 0) < len(
            self.bus.records(TRAJECTORIES.name)
        ):
            assert time.monotonic() < deadline, "the judge did not catch up"
            await asyncio.sleep(0.005)

    async def record(self) -> None:
        """Archive everything published, as the recorder does (every topic)."""
        await self.archive.append(
            (record.topic, decode(record.value))
            for topic in (TRAJECTORIES.name, VERDICTS.name)
            for record in self.bus.records(topic)
        )

    def verdicts(self) -> list[pb.Event]:
        """Every ActionJudged published, in order."""
        return [decode(record.value) for record in self.bus.records(VERDICTS.name)]


@pytest.fixture
async def stack():
    async with InMemoryBus() as bus:
        stack = Stack(bus, InMemoryArchive())
        await stack.judge.start()
        yield stack


def judged_steps(verdicts: list[pb.Event]) -> list[int]:
    return [event.action_judged.step_index for event in verdicts]


def masked(verdicts: list[pb.Event]) -> dict[int, list[str]]:
    return {
        v.action_judged.step_index: [r.rule_id for r in v.action_judged.reasons]
        for v in verdicts
        if v.action_judged.verdict == pb.VERDICT_MASK
    }


def proposals(run: ScriptedRun) -> list[int]:
    """Positions in the run's events of each ActionProposed."""
    return [n for n, event in enumerate(run.events) if event.HasField("action_proposed")]


async def test_an_action_is_judged_only_once_its_lookahead_window_is_in(stack: Stack) -> None:
    run = ScriptedRun().play(*SCRIPT)
    judged_after_proposal = []
    published = 0
    for position in proposals(run):
        await stack.publish(*run.events[published : position + 1])
        published = position + 1
        judged_after_proposal.append(judged_steps(stack.verdicts()))
        await stack.publish(run.events[published])  # its observation
        published += 1
    # Step p is due once steps p..p+2 are observed and step p+3 is proposed.
    assert judged_after_proposal == [[], [], [], [0], [0, 1], [0, 1, 2]]
    assert judged_steps(stack.verdicts()) == [0, 1, 2]


async def test_an_ended_trajectory_flushes_its_actions_and_is_forgotten(stack: Stack) -> None:
    run = ScriptedRun().play(*SCRIPT)
    await stack.publish(*run.events[:-1])
    assert judged_steps(stack.verdicts()) == [0, 1, 2]
    assert len(stack.judge.followed) == 1

    await stack.publish(run.events[-1])

    assert judged_steps(stack.verdicts()) == [0, 1, 2, 3, 4, 5]
    assert masked(stack.verdicts()) == MASKED
    assert len(stack.judge.followed) == 0


async def test_verdicts_carry_the_derived_ids_and_go_to_the_verdicts_topic(stack: Stack) -> None:
    run = ScriptedRun().play(*SCRIPT)
    await stack.publish(*run.events)
    actions = [event for event in run.events if event.HasField("action_proposed")]
    assert [(v.event_id, v.causation_id, v.source.service) for v in stack.verdicts()] == [
        (verdict_event_id(action, RULESET.version), action.event_id, "judge") for action in actions
    ]
    assert {v.action_judged.ruleset_version for v in stack.verdicts()} == {RULESET.version}
    assert len(stack.bus.records(TRAJECTORIES.name)) == len(run.events)


async def test_redelivered_events_publish_no_second_verdict() -> None:
    run = ScriptedRun().play(*SCRIPT)
    async with InMemoryBus(processed=Forgetful()) as bus:
        stack = Stack(bus, InMemoryArchive())
        await stack.judge.start()
        await stack.publish(*run.events[:-1])
        await stack.publish(*run.events[:-1])  # every one delivered again
        await stack.publish(run.events[-1])
        assert judged_steps(stack.verdicts()) == [0, 1, 2, 3, 4, 5]


async def test_a_restarted_judge_resumes_mid_trajectory_without_judging_twice() -> None:
    run = ScriptedRun().play(*SCRIPT)
    middle = proposals(run)[4] + 1
    processed = InMemoryProcessedEvents()
    async with InMemoryBus(processed=processed) as first:
        before = Stack(first, InMemoryArchive())
        await before.judge.start()
        await before.publish(*run.events[:middle])
        await before.record()
        kept = [
            (record.topic, record.key, record.value)
            for topic in (TRAJECTORIES.name, VERDICTS.name)
            for record in first.records(topic)
        ]
    restored = REGISTRY.get_sample_value("apollo_judge_restored_trajectories_total")
    # A new process on the same log and the same record of handled events.
    async with InMemoryBus(processed=processed) as second:
        await second.publish_raw_many(kept)
        after = Stack(second, before.archive)
        await after.judge.start()
        await after.publish(*run.events[middle:])
        verdicts = after.verdicts()

    assert judged_steps(verdicts) == [0, 1, 2, 3, 4, 5]
    assert len({v.event_id for v in verdicts}) == len(verdicts)
    assert REGISTRY.get_sample_value("apollo_judge_restored_trajectories_total") == restored + 1
    assert masked(verdicts) == MASKED


async def test_an_imported_trajectory_is_judged(stack: Stack) -> None:
    run = ScriptedRun().play(*SCRIPT)
    run.events[0].trajectory_started.labels[IMPORTED_FROM_LABEL] = "innovatorbench"
    await stack.publish(*run.events)
    assert masked(stack.verdicts()) == MASKED


async def test_metrics_count_verdicts_by_rule_and_pending_actions_return_to_zero(
    stack: Stack,
) -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    version = RULESET.version
    masks = sample("apollo_judge_verdicts_total", ruleset=version, verdict="mask")
    rule = sample("apollo_judge_reasons_total", ruleset=version, rule="human-correction")
    run = ScriptedRun().play(*SCRIPT)
    pending = sample("apollo_judge_pending_actions")

    await stack.publish(*run.events[:-1])
    assert sample("apollo_judge_pending_actions") == pending + 3
    await stack.publish(run.events[-1])

    assert sample("apollo_judge_pending_actions") == pending
    assert sample("apollo_judge_verdicts_total", ruleset=version, verdict="mask") == masks + 2
    assert sample("apollo_judge_reasons_total", ruleset=version, rule="human-correction") == (
        rule + 1
    )


def test_the_judge_folds_every_kind_of_the_trajectory_log() -> None:
    assert ROUTES.kinds == LOG_KINDS


def test_the_settings_name_the_shipped_default_unless_set(monkeypatch, tmp_path) -> None:
    assert load_ruleset(JudgeSettings().judge_ruleset) == shipped_ruleset("default")
    monkeypatch.setenv("APOLLO_JUDGE_RULESET", str(tmp_path / "mine.yaml"))
    assert JudgeSettings().judge_ruleset == tmp_path / "mine.yaml"
