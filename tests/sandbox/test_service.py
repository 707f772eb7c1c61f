"""SandboxService through its messages: at-most-once actions, recovery, endings and wake-ups."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.blobs import InMemoryBlobStore
from services.eventlog.codec import decode, encode
from services.eventlog.events import new_event
from services.eventlog.memory_bus import InMemoryBus
from services.eventlog.subscription import Delivery
from services.eventlog.topics import TRAJECTORIES
from services.sandbox.actions import RESTARTED_MID_ACTION
from services.sandbox.app import build_sandbox
from services.sandbox.history import ArchiveHistory
from services.sandbox.ledger import (
    ActionRecord,
    ActionState,
    InMemoryExecutionLedger,
)
from services.sandbox.settings import SandboxSettings
from services.trajectory.state import IMPORTED_FROM_LABEL

pytestmark = pytest.mark.timeout(60)

TASK = "data-filtering-dedup"


def started(trajectory_id: str, max_steps: int = 0, task_seed: int = 0) -> pb.Event:
    """A TrajectoryStarted of the built-in task (budgets 0 take the task's own)."""
    body = pb.TrajectoryStarted(
        task_id=TASK, budgets=pb.Budgets(max_steps=max_steps), task_seed=task_seed
    )
    return new_event(body, trajectory_id=trajectory_id, service="test")


def guidance(trajectory_id: str) -> pb.Event:
    """A human's message to a trajectory."""
    body = pb.GuidanceSubmitted(annotator="ann", text="look at the logs")
    return new_event(body, trajectory_id=trajectory_id, service="test")


class Harness:
    """The sandbox built by its app on an InMemoryBus, with what it published by trajectory."""

    def __init__(
        self,
        bus: InMemoryBus,
        ledger: InMemoryExecutionLedger,
        root: Path,
        backend,
        archive: InMemoryArchive | None = None,
        settings: SandboxSettings | None = None,
    ):
        self.settings = settings or SandboxSettings(sandbox_workspace_root=root)
        self.bus = bus
        self.ledger = ledger
        self.root = root
        self.archive = archive or InMemoryArchive()
        self.service = build_sandbox(
            self.settings,
            bus,
            ledger,
            InMemoryBlobStore(),
            backend=backend,
            history=ArchiveHistory(self.archive),
        )
        self.runtimes = self.service.runtimes

    def published(self, trajectory_id: str, kind: str) -> list[pb.Event]:
        """Events of `kind` the service published for a trajectory."""
        events = [decode(r.value) for r in self.bus.records(TRAJECTORIES.name)]
        return [
            e
            for e in events
            if e.trajectory_id == trajectory_id
            and e.source.service == "sandbox"
            and e.HasField(kind)
        ]

    def observation(self, event: pb.Event) -> list[dict]:
        """The observations answering one action, as JSON."""
        return [
            json.loads(e.observation_recorded.observation_json)
            for e in self.published(event.trajectory_id, "observation_recorded")
            if e.observation_recorded.action_id == event.event_id
        ]

    async def settle(self) -> None:
        """Let the bus deliver what is published and the service finish what it started."""
        await eventually(lambda: not self._undelivered())
        await self.service.drain()

    def _undelivered(self) -> bool:
        group = self.settings.shard.group(self.settings.sandbox_group)
        return self.bus._committed.get((group, TRAJECTORIES.name), 0) < len(
            self.bus.records(TRAJECTORIES.name)
        )


async def eventually(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Wait until `check()` holds."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


@pytest.fixture
async def harness(workspace_root: Path, backend):
    """A started service on a started bus; stopped afterwards."""
    async with InMemoryBus() as bus:
        h = Harness(bus, InMemoryExecutionLedger(), workspace_root, backend)
        await h.service.start()
        yield h
        await h.service.stop()


async def restarted(h: Harness, backend) -> Harness:
    """A new service instance over the same ledger, workspaces and archive (as after a crash)."""
    await h.service.stop()
    again = Harness(h.bus, h.ledger, h.root, backend, h.archive, h.settings)
    await again.service.recover()
    return again


async def test_a_redelivered_action_runs_once_and_is_published_once(harness, act) -> None:
    await harness.bus.publish(started("redo"))
    count = act("redo", 0, "run_command", command="echo ran >> runs; sleep 0.3; wc -l < runs")
    await harness.bus.publish(count)
    await eventually(lambda: harness.runtimes.live("redo") is not None)
    # Re-delivered while running, then again after it was published (an offset commit lost).
    await harness.service.on_delivery(Delivery(count, TRAJECTORIES.name, 0, 1))
    await harness.settle()
    await harness.service.on_delivery(Delivery(count, TRAJECTORIES.name, 0, 1))
    await harness.settle()
    [observation] = harness.observation(count)
    assert observation["output"].strip() == "1"
    assert (harness.root / "redo" / "runs").read_text() == "ran\n"


async def test_a_crash_mid_command_yields_one_error_and_no_rerun(harness, act, backend) -> None:
    await harness.bus.publish(started("crash"))
    await harness.settle()
    action = act("crash", 0, "run_command", command="echo ran >> runs")
    # What a SIGKILL mid-command leaves: the action recorded as started, never completed.
    await harness.ledger.start(ActionRecord(action.event_id, "crash", 0, "run_command", "started"))
    again = await restarted(harness, backend)
    await again.service.on_event(action)  # the broker re-delivers the uncommitted action
    await again.service.drain()
    [observation] = harness.observation(action)
    assert not observation["success"]
    assert observation["error_message"] == RESTARTED_MID_ACTION
    assert "restarted" in observation["error_message"]
    assert not (harness.root / "crash" / "runs").exists()
    assert (await harness.ledger.get(action.event_id)).state is ActionState.PUBLISHED


async def test_completed_but_unpublished_actions_are_republished_on_recover(
    harness, act, backend
) -> None:
    await harness.bus.publish(started("lost"))
    await harness.settle()
    action = act("lost", 0, "think", thought="x")
    answer = new_event(
        pb.ObservationRecorded(action_id=action.event_id, tool_name="think", success=True),
        trajectory_id="lost",
        service="sandbox",
        causation_id=action.event_id,
    )
    await harness.ledger.start(ActionRecord(action.event_id, "lost", 0, "think", "started"))
    await harness.ledger.complete(action.event_id, [encode(answer)], None)
    await restarted(harness, backend)
    [published] = harness.published("lost", "observation_recorded")
    assert published.event_id == answer.event_id
    assert await harness.ledger.unfinished() == []


async def test_finish_ends_the_trajectory_with_the_final_score(harness, act) -> None:
    await harness.bus.publish(started("done"))
    await harness.bus.publish(act("done", 0, "finish"))
    await harness.settle()
    [ended] = harness.published("done", "trajectory_ended")
    assert ended.trajectory_ended.reason == pb.END_REASON_FINISHED
    assert ended.trajectory_ended.HasField("final_score")
    assert 0 <= ended.trajectory_ended.final_score <= 10  # nothing was done
    assert harness.runtimes.live("done") is None
    assert (await harness.ledger.trajectory("done")).ended


async def test_the_started_instance_is_the_workspace_and_the_labels_even_after_a_restart(
    harness, act, backend
) -> None:
    await harness.bus.publish(started("seeded", task_seed=1002))
    await harness.bus.publish(act("seeded", 0, "list_files"))
    await harness.settle()
    workspace, hidden = harness.runtimes.catalog.get(TASK).instance(1002).files()
    corpus = harness.root / "seeded" / "data" / "corpus.jsonl"
    assert corpus.read_text() == workspace["data/corpus.jsonl"]
    assert (await harness.ledger.trajectory("seeded")).task_seed == 1002
    keep = set(json.loads(hidden["keep_ids.json"]))
    kept = [line for line in corpus.read_text().splitlines() if json.loads(line)["id"] in keep]
    (harness.root / "seeded" / "filtered.jsonl").write_text("\n".join(kept) + "\n")
    again = await restarted(harness, backend)
    await again.service.on_event(act("seeded", 1, "finish"))
    await again.service.drain()
    [ended] = harness.published("seeded", "trajectory_ended")
    # Exactly the kept records of this instance: F1 1.0, above the reference's 80.
    assert ended.trajectory_ended.final_score == 85.0


async def test_the_step_budget_ends_the_trajectory(harness, act) -> None:
    await harness.bus.publish(started("budget", max_steps=2))
    await harness.bus.publish(act("budget", 0, "think", thought="plan"))
    await harness.bus.publish(act("budget", 1, "list_files"))
    await harness.settle()
    [ended] = harness.published("budget", "trajectory_ended")
    assert ended.trajectory_ended.reason == pb.END_REASON_STEP_BUDGET
    assert ended.trajectory_ended.steps == 2
    # An action after the end is not run.
    late = act("budget", 2, "run_command", command="touch late")
    await harness.bus.publish(late)
    await harness.settle()
    assert harness.observation(late) == []
    assert not (harness.root / "budget" / "late").exists()


async def test_guidance_wakes_only_its_own_trajectorys_sleep(harness, act) -> None:
    for trajectory_id in ("woken", "other"):
        await harness.bus.publish(started(trajectory_id))
    woken = act("woken", 0, "sleep", seconds=30)
    other = act("other", 0, "sleep", seconds=1.5)
    await harness.bus.publish(woken)
    await harness.bus.publish(other)
    await asyncio.sleep(0.3)
    await harness.bus.publish(guidance("woken"))
    await eventually(lambda: harness.observation(woken), timeout_s=5)
    assert "woken early" in harness.observation(woken)[0]["message"]
    assert harness.observation(other) == []
    await harness.settle()
    assert harness.observation(other)[0]["slept_seconds"] >= 1.4


async def test_actions_of_trajectories_never_started_here_are_ignored(harness, act) -> None:
    stray = act("stranger", 0, "run_command", command="touch here")
    await harness.bus.publish(stray)
    await harness.settle()
    assert harness.published("stranger", "observation_recorded") == []
    assert harness.published("stranger", "trajectory_ended") == []
    assert await harness.ledger.get(stray.event_id) is None


async def test_observations_the_archive_lacks_are_republished_after_their_action(
    harness, act, backend
) -> None:
    await harness.bus.publish(started("lost-with-broker"))
    await harness.settle()
    kept = act("lost-with-broker", 0, "think", thought="x")
    lost = act("lost-with-broker", 1, "run_command", command="true")
    await harness.bus.publish(kept)
    await harness.settle()
    await harness.bus.publish(lost)
    await harness.settle()
    [kept_answer] = harness.published("lost-with-broker", "observation_recorded")[:1]
    # The broker died after the second observation: the archive has everything but it.
    await harness.archive.append([(TRAJECTORIES.name, e) for e in (kept, kept_answer, lost)])
    again = await restarted(harness, backend)
    answers = again.published("lost-with-broker", "observation_recorded")
    assert [a.observation_recorded.action_id for a in answers] == [
        kept.event_id,
        lost.event_id,
        lost.event_id,  # published again with its own event id: consumers keep one
    ]
    assert answers[1].event_id == answers[2].event_id


async def test_imported_history_the_archive_shows_ended_is_never_run(harness, act) -> None:
    begin = started("imported")
    action = act("imported", 0, "run_command", command="touch here")
    end = new_event(
        pb.TrajectoryEnded(reason=pb.END_REASON_FINISHED, steps=1),
        trajectory_id="imported",
        service="sandbox",
    )
    # `apollo import` archives first, then publishes.
    await harness.archive.append([(TRAJECTORIES.name, e) for e in (begin, action, end)])
    await harness.bus.publish_many([begin, action, end])
    await harness.settle()
    assert harness.published("imported", "observation_recorded") == []
    assert not (harness.root / "imported").exists()


async def test_an_imported_trajectory_without_an_end_is_never_run(harness, act) -> None:
    begin = started("imported-open")
    begin.trajectory_started.labels[IMPORTED_FROM_LABEL] = "innovatorbench"
    action = act("imported-open", 0, "run_command", command="touch here")
    await harness.bus.publish_many([begin, action])
    await harness.settle()
    assert harness.published("imported-open", "observation_recorded") == []
    assert harness.published("imported-open", "trajectory_ended") == []
    assert not (harness.root / "imported-open").exists()


async def test_bad_tool_arguments_get_an_error_and_the_trajectory_goes_on(harness) -> None:
    await harness.bus.publish(started("bad"))
    calls = [
        ("run_command", "{not json"),
        ("run_command", "[1, 2]"),
        ("run_command", '{"command": "ls", "surprise": 1}'),
        ("open_file", '{"path": "a\\u0000b"}'),
        ("create_file", json.dumps({"path": "x" * 5000, "content": ""})),
        ("no_such_tool", "{}"),
    ]
    bad = []
    for step, (tool, arguments) in enumerate(calls):
        call = pb.ToolCall(call_id=f"c{step}", name=tool, arguments_json=arguments)
        bad.append(
            new_event(
                pb.ActionProposed(step_index=step, tool_call=call, prompt_digest="sha256:test"),
                trajectory_id="bad",
                service="test",
            )
        )
        await harness.bus.publish(bad[-1])
    await harness.settle()
    for event in bad:
        [observation] = harness.observation(event)
        assert not observation["success"]
        assert observation["error_message"]
    assert harness.published("bad", "trajectory_ended") == []


def shards(bus: InMemoryBus, root: Path, backend, count: int = 2) -> list[Harness]:
    """`count` sandboxes sharing the bus, the ledger and the workspaces, one shard each."""
    ledger = InMemoryExecutionLedger()
    return [
        Harness(
            bus,
            ledger,
            root,
            backend,
            settings=SandboxSettings(
                sandbox_workspace_root=root, sandbox_shard_index=i, sandbox_shard_count=count
            ),
        )
        for i in range(count)
    ]


async def test_shards_split_the_trajectories_and_run_each_action_once(
    workspace_root, backend, act
) -> None:
    trajectories = [f"shard-{n}" for n in range(6)]
    async with InMemoryBus() as bus:
        sandboxes = shards(bus, workspace_root, backend)
        owners = {
            t: [h.settings.shard.owns(t) for h in sandboxes].index(True) for t in trajectories
        }
        assert set(owners.values()) == {0, 1}, "pick ids that fall in both shards"
        for h in sandboxes:
            await h.service.start()
        actions = [act(t, 0, "run_command", command="echo ran >> runs") for t in trajectories]
        for trajectory, action in zip(trajectories, actions, strict=True):
            await bus.publish(started(trajectory))
            await bus.publish(action)
        for h in sandboxes:
            await h.settle()
        for trajectory, action in zip(trajectories, actions, strict=True):
            [observation] = sandboxes[0].observation(action)
            assert observation["success"], observation
            assert (workspace_root / trajectory / "runs").read_text() == "ran\n"
            running = [h.runtimes.live(trajectory) is not None for h in sandboxes]
            assert running == [i == owners[trajectory] for i in range(len(sandboxes))]
        for h in sandboxes:
            await h.service.stop()


async def test_a_restarted_shard_recovers_only_its_own_trajectories(
    workspace_root, backend, act
) -> None:
    async with InMemoryBus() as bus:
        first, second = shards(bus, workspace_root, backend)
        mine = next(f"mine-{n}" for n in range(50) if first.settings.shard.owns(f"mine-{n}"))
        theirs = next(f"theirs-{n}" for n in range(50) if second.settings.shard.owns(f"theirs-{n}"))
        for h in (first, second):
            await h.service.start()
        for trajectory in (mine, theirs):
            await bus.publish(started(trajectory))
        await first.settle()
        await second.settle()
        interrupted = [act(t, 0, "run_command", command="true") for t in (mine, theirs)]
        for action in interrupted:
            record = ActionRecord(
                action.event_id, action.trajectory_id, 0, "run_command", "started"
            )
            await first.ledger.start(record)
        await restarted(first, backend)
        [answer] = first.observation(interrupted[0])
        assert answer["error_message"] == RESTARTED_MID_ACTION
        assert first.observation(interrupted[1]) == []
        assert [r.action_id for r in await first.ledger.unfinished()] == [interrupted[1].event_id]
        await second.service.stop()
