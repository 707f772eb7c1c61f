"""The policy and summarizer, driven through the in-memory bus with scripted models."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from apollo.v1 import events_pb2 as pb
from bench._echo_sandbox import EchoSandbox
from bench._scripted import scripted_start
from services.eventlog.codec import decode
from services.eventlog.events import new_event
from services.eventlog.memory_bus import InMemoryBus
from services.eventlog.topics import TRAJECTORIES
from services.llm.port import ModelReply, ModelSpecData, TokenUsage, ToolCallRequest
from services.llm.scripted import ScriptedBackend, ScriptedCall
from services.policy.backends import Backends
from services.policy.service import PolicyService
from services.policy.settings import PolicySettings
from services.summarizer.service import SummarizerService
from services.summarizer.settings import SummarizerSettings
from services.trajectory import Trajectory, fold
from services.trajectory.prompt import render_prompt

pytestmark = pytest.mark.timeout(20)

TOOLS = [
    pb.ToolSpec(name="think", description="Note a thought.", parameters_json_schema="{}"),
    pb.ToolSpec(
        name="run_command",
        description="Run a command.",
        parameters_json_schema='{"additionalProperties":false,"properties":{"command":{}},'
        '"required":["command"]}',
    ),
    pb.ToolSpec(name="finish", description="End.", parameters_json_schema="{}"),
]
SETTINGS = PolicySettings(policy_replay_grace_s=0.05)


def log_of(bus: InMemoryBus) -> list[pb.Event]:
    return [decode(r.value) for r in bus.records(TRAJECTORIES.name)]


async def until(bus: InMemoryBus, trajectory_id: str, done: Callable[[Trajectory], bool]):
    while not done(state := fold(log_of(bus), trajectory_id)):
        await asyncio.sleep(0.005)
    return state


def assert_exact_and_contiguous(bus: InMemoryBus, state: Trajectory) -> None:
    assert [step.index for step in state.steps] == list(range(len(state.steps)))
    for step in state.steps:
        assert render_prompt(state, step.index).digest == step.action.action_proposed.prompt_digest


class GatedBackend:
    """A scripted backend whose every answer waits until the test opens the gate."""

    def __init__(self, calls) -> None:
        self.inner = ScriptedBackend([ScriptedCall(name, args) for name, args in calls])
        self.gate = asyncio.Semaphore(0)
        self.requests = []

    @property
    def spec(self) -> ModelSpecData:
        return ModelSpecData("gated", "test")

    async def complete(self, request):
        self.requests.append(request)
        await self.gate.acquire()
        return await self.inner.complete(request)

    def count_tokens(self, messages, tools) -> int:
        return self.inner.count_tokens(messages, tools)


class ReplyBackend:
    """Answers the n-th call with the n-th reply."""

    def __init__(self, replies: list[ModelReply]) -> None:
        self.replies = list(replies)

    @property
    def spec(self) -> ModelSpecData:
        return ModelSpecData("replies", "test")

    async def complete(self, request) -> ModelReply:
        return self.replies.pop(0)

    def count_tokens(self, messages, tools) -> int:
        return 10


def reply(*calls: tuple[str, str], text: str = "hmm") -> ModelReply:
    tool_calls = tuple(ToolCallRequest(f"c{n}", name, args) for n, (name, args) in enumerate(calls))
    return ModelReply(text, tool_calls, TokenUsage(10, 5, approximate=True), 3)


async def running(backends: Backends, *, summarizer: bool = False, settings=SETTINGS):
    bus = InMemoryBus()
    await bus.start()
    await EchoSandbox(bus).start()
    policy = PolicyService(bus, backends, settings)
    await policy.start()
    if summarizer:
        await SummarizerService(bus, SummarizerSettings()).start()
    return bus, policy


async def test_a_scripted_trajectory_runs_to_its_end_with_exact_prompts() -> None:
    bus, policy = await running(Backends(4))
    start = scripted_start(10, TOOLS, [("think", {})] * 3 + [("finish", {})])
    await bus.publish(start)
    state = await until(bus, start.trajectory_id, lambda s: s.is_over)
    assert [s.tool_name for s in state.steps] == ["think", "think", "think", "finish"]
    assert_exact_and_contiguous(bus, state)
    await policy.stop()
    await bus.stop()


async def test_guidance_is_delivered_exactly_once_into_the_next_prompt() -> None:
    gated = GatedBackend([("think", {})] * 5 + [("finish", {})])
    bus, policy = await running(Backends(4, factory=lambda spec, **_: gated))
    start = scripted_start(10, TOOLS, [])
    await bus.publish(start)
    gated.gate.release()  # step 0
    await until(bus, start.trajectory_id, lambda s: len(s.steps) == 1 and s.steps[0].observed)
    while len(gated.requests) < 2:  # step 1's call is in flight
        await asyncio.sleep(0.005)
    advice = new_event(
        pb.GuidanceSubmitted(annotator="ann", text="Your training script is right."),
        trajectory_id=start.trajectory_id,
        service="gateway",
    )
    await bus.publish(advice)
    for _ in range(5):
        gated.gate.release()
    state = await until(bus, start.trajectory_id, lambda s: s.is_over)
    delivered = [s.index for s in state.steps if s.action.action_proposed.delivered_guidance_ids]
    assert delivered == [2]  # not the prompt already sent, the next one
    tagged = "<real_user>Your training script is right.</real_user>"
    for request, index in zip(gated.requests, range(6), strict=True):
        shown = [m for m in request.messages if m.content == tagged]
        assert len(shown) == (1 if index >= 2 else 0)
    assert_exact_and_contiguous(bus, state)
    await policy.stop()
    await bus.stop()


async def test_bad_answers_become_null_actions_and_the_run_goes_on() -> None:
    replies = [
        reply(),
        reply(("think", "{}"), ("think", "{}")),
        reply(("rm_rf", "{}")),
        reply(("run_command", "{not json")),
        reply(("run_command", '{"cmd": "ls"}')),
        reply(("finish", "{}")),
    ]
    backend = ReplyBackend(replies)
    bus, policy = await running(Backends(4, factory=lambda spec, **_: backend))
    start = scripted_start(10, TOOLS, [])
    start.trajectory_started.policy.backend = "replies"
    await bus.publish(start)
    state = await until(bus, start.trajectory_id, lambda s: s.is_over)
    kinds = [s.action.action_proposed.parse_error.kind for s in state.steps]
    assert kinds == [
        "no_tool_call",
        "multiple_tool_calls",
        "unknown_tool",
        "bad_arguments",
        "bad_arguments",
        "",
    ]
    assert state.steps[0].action.action_proposed.assistant_text == "hmm"
    assert_exact_and_contiguous(bus, state)
    await policy.stop()
    await bus.stop()


async def test_at_a_small_threshold_the_window_is_summarized_and_prompts_still_verify() -> None:
    bus, policy = await running(Backends(4), summarizer=True)
    start = scripted_start(30, TOOLS, [("think", {})] * 12 + [("finish", {})])
    start.trajectory_started.summary_threshold_tokens = 900
    await bus.publish(start)
    state = await until(bus, start.trajectory_id, lambda s: s.is_over)
    assert len(state.summaries) >= 1
    built_on = {s.action.action_proposed.summary_id for s in state.steps} - {""}
    assert built_on
    assert built_on <= {summary.event_id for summary in state.summaries}
    assert "<state_snapshot>" in state.summaries[0].context_summarized.summary
    assert_exact_and_contiguous(bus, state)
    await policy.stop()
    await bus.stop()


async def test_a_restarted_policy_continues_without_duplicate_or_missing_step() -> None:
    gated = GatedBackend([("think", {})] * 6 + [("finish", {})])
    backends = Backends(4, factory=lambda spec, **options: gated)
    bus, first = await running(backends)
    start = scripted_start(20, TOOLS, [])
    await bus.publish(start)
    for _ in range(3):
        gated.gate.release()
    await until(bus, start.trajectory_id, lambda s: len(s.steps) == 3 and s.steps[-1].observed)
    await first.stop()  # dies with step 3's model call in flight
    # The successor replays with no grace at all: only derived ids keep the log clean.
    after = PolicyService(bus, backends, PolicySettings(policy_replay_grace_s=0))
    await after.start()
    for _ in range(10):
        gated.gate.release()
    state = await until(bus, start.trajectory_id, lambda s: s.is_over)
    assert_exact_and_contiguous(bus, state)
    proposed = {e.event_id for e in log_of(bus) if e.HasField("action_proposed")}
    assert len(proposed) == len(state.steps)
    await after.stop()
    await bus.stop()
