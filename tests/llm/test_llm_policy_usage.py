"""A policy step through each API backend and its loopback server: what the recorded
ActionProposed says the call cost in tokens, cached or not."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest
from fake_anthropic import FakeAnthropic
from fake_model_api import LoopbackModelAPI
from fake_openai import FakeOpenAI
from prometheus_client import REGISTRY

from apollo.v1 import events_pb2 as pb
from bench._echo_sandbox import EchoSandbox
from services.eventlog.codec import decode
from services.eventlog.events import new_event, new_event_id
from services.eventlog.memory_bus import InMemoryBus
from services.eventlog.topics import TRAJECTORIES
from services.llm import backend_from_spec
from services.policy.backends import Backends
from services.policy.service import PolicyService
from services.policy.settings import PolicySettings
from services.trajectory import Trajectory, fold

pytestmark = pytest.mark.timeout(30)

OBJECT = '{"type":"object","properties":{}}'
TOOLS = [
    pb.ToolSpec(name="think", description="Note a thought.", parameters_json_schema=OBJECT),
    pb.ToolSpec(name="finish", description="End the task.", parameters_json_schema=OBJECT),
]


def started(backend: str, model: str) -> pb.Event:
    body = pb.TrajectoryStarted(
        task_id="noop",
        task_description="Think twice, then finish.",
        tools=TOOLS,
        budgets=pb.Budgets(max_steps=5, max_seconds=3600),
        policy=pb.ModelSpec(backend=backend, model=model, sampling=pb.SamplingParams(
            temperature=1.0, top_p=1.0, max_tokens=512)),
        started_by="test",
        prompt_template_version="v1",
    )  # fmt: skip
    return new_event(body, trajectory_id=new_event_id(), service="test")


async def recorded_usage(start: pb.Event, factory: Callable) -> list[pb.TokenUsage]:
    """Run the trajectory to its end on the in-memory bus; each action's usage."""
    bus = InMemoryBus()
    await bus.start()
    await EchoSandbox(bus).start()
    policy = PolicyService(bus, Backends(4, factory=factory), PolicySettings())
    await policy.start()
    await bus.publish(start)
    state = fold([], start.trajectory_id)
    while not state.is_over:
        await asyncio.sleep(0.01)
        state = fold([decode(r.value) for r in bus.records(TRAJECTORIES.name)], start.trajectory_id)
    await policy.stop()
    await bus.stop()
    return usages(state)


def usages(state: Trajectory) -> list[pb.TokenUsage]:
    return [step.action.action_proposed.usage for step in state.steps]


def queue_think_think_finish(api: LoopbackModelAPI, reply: Callable[[str], dict]) -> None:
    for name in ("think", "think", "finish"):
        api.queue_reply(reply(name))


async def test_anthropic_steps_write_their_prefix_and_the_next_step_reads_it(
    anthropic_api: FakeAnthropic,
) -> None:
    queue_think_think_finish(anthropic_api, lambda name: {"tool_use": [(name, {})]})
    factory = lambda spec, **_: backend_from_spec(  # noqa: E731
        spec, api_key="test-key", base_url=anthropic_api.base_url, max_retries=0
    )
    read_metric = ("apollo_policy_model_tokens_total", {"backend": "anthropic:claude-test",
                                                        "kind": "cache_read"})  # fmt: skip
    read_before = REGISTRY.get_sample_value(*read_metric) or 0.0
    steps = await recorded_usage(started("anthropic", "claude-test"), factory)

    # Each request carries two breakpoints: the system prompt, and its newest block.
    for sent in anthropic_api.requests:
        assert sent["system"][-1]["cache_control"] == {"type": "ephemeral"}
        assert sent["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
        marked = [b for m in sent["messages"] for b in m["content"] if "cache_control" in b]
        assert len(marked) == 1
    # The first step writes its whole prompt; every later one reads the previous prompt
    # back and writes only its own new turn.
    assert len(steps) == 3
    assert (steps[0].cache_read_tokens, steps[0].cache_write_tokens) == (0, steps[0].prompt_tokens)
    for previous, step in itertools.pairwise(steps):
        assert step.cache_read_tokens == previous.prompt_tokens
        assert step.cache_write_tokens == step.prompt_tokens - previous.prompt_tokens > 0
    assert all(step.completion_tokens == 7 and not step.approximate for step in steps)
    read_after = REGISTRY.get_sample_value(*read_metric)
    assert read_after - read_before == sum(step.cache_read_tokens for step in steps)


async def test_openai_steps_record_the_cached_prompt_tokens_the_server_reports(
    openai_api: FakeOpenAI,
) -> None:
    queue_think_think_finish(openai_api, lambda name: {"tool_calls": [(name, "{}")]})
    factory = lambda spec, **_: backend_from_spec(  # noqa: E731
        spec, base_url=openai_api.base_url + "/v1", max_retries=0
    )
    steps = await recorded_usage(started("openai", "ckpt"), factory)

    assert len(steps) == 3
    assert steps[0].cache_read_tokens == 0
    for previous, step in itertools.pairwise(steps):
        # The server's prefix cache holds the previous prompt, which this one extends.
        assert step.cache_read_tokens == previous.prompt_tokens < step.prompt_tokens
    assert all(step.cache_write_tokens == 0 and not step.approximate for step in steps)
