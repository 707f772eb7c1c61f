"""The port's data, its proto mapping, the backend factory and the scripted backend."""

from __future__ import annotations

import json

import pytest

from apollo.v1 import events_pb2 as pb
from services.llm import (
    ChatMessage,
    FatalBackendError,
    ModelSpecData,
    Prompt,
    SamplingParams,
    ToolCallRequest,
    ToolDefinition,
    backend_from_spec,
)
from services.llm.approximate import approximate_token_count
from services.llm.scripted import ScriptedBackend, ScriptedCall

pytestmark = pytest.mark.timeout(30)

TOOL = ToolDefinition("think", "Think out loud.", '{"type":"object"}')
REQUEST = Prompt((ChatMessage("system", "Be brief."), ChatMessage("user", "Go.")), (TOOL,))


def test_sampling_defaults_are_the_papers_and_round_trip_through_the_proto() -> None:
    assert SamplingParams() == SamplingParams(temperature=1.0, top_p=1.0, max_tokens=8192)
    for params in (SamplingParams(), SamplingParams(0.2, 0.9, 512, seed=7)):
        assert SamplingParams.from_proto(params.to_proto()) == params
    assert not SamplingParams().to_proto().HasField("seed")


def test_model_spec_and_tool_definitions_map_onto_the_event_schema() -> None:
    spec = ModelSpecData("local", "SmolLM2-135M-Instruct.Q4_1").to_proto(SamplingParams(seed=3))
    assert (spec.backend, spec.model, spec.sampling.seed) == (
        "local",
        "SmolLM2-135M-Instruct.Q4_1",
        3,
    )
    assert ToolDefinition.from_proto(TOOL.to_proto()) == TOOL
    call = ToolCallRequest("c1", "think", '{"thought":"x"}').to_proto()
    assert call == pb.ToolCall(call_id="c1", name="think", arguments_json='{"thought":"x"}')


def test_the_approximate_count_grows_with_the_prompt() -> None:
    small = approximate_token_count(REQUEST.messages, ())
    assert small > 0
    assert approximate_token_count(REQUEST.messages, (TOOL,)) > small
    longer = (*REQUEST.messages, ChatMessage("user", "x" * 350))
    assert approximate_token_count(longer, ()) >= small + 100


@pytest.mark.parametrize(
    ("spec", "needs"),
    [
        ("gpt:4", "unknown backend"),
        ("anthropic", "names no model"),
        ("openai:", "names no model"),
        ("scripted:reference", "needs calls"),
    ],
)
def test_bad_specs_fail_with_a_message_that_says_what_to_write(spec: str, needs: str) -> None:
    with pytest.raises(FatalBackendError, match=needs):
        backend_from_spec(spec)


def test_openai_spec_takes_the_base_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("APOLLO_OPENAI_BASE_URL", raising=False)
    with pytest.raises(FatalBackendError, match="APOLLO_OPENAI_BASE_URL"):
        backend_from_spec("openai:my-checkpoint")
    monkeypatch.setenv("APOLLO_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert backend_from_spec("openai:my-checkpoint").spec == ModelSpecData(
        "openai", "my-checkpoint"
    )


def test_a_malformed_endpoint_in_the_environment_is_rejected_with_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APOLLO_OPENAI_BASE_URL", "127.0.0.1:8000/v1")
    with pytest.raises(FatalBackendError, match=r"APOLLO_OPENAI_BASE_URL: .* is not an http"):
        backend_from_spec("openai:my-checkpoint")


def test_anthropic_spec_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(FatalBackendError, match="ANTHROPIC_API_KEY"):
        backend_from_spec("anthropic:claude-sonnet-4-5")


async def test_scripted_replays_its_calls_in_order_then_finishes() -> None:
    backend = backend_from_spec(
        "scripted:reference",
        calls=[ScriptedCall("create_session", {"name": "main"}), ScriptedCall("list_sessions")],
    )
    assert backend.spec == ModelSpecData("scripted", "reference")
    replies = [await backend.complete(REQUEST) for _ in range(4)]
    names = [reply.tool_calls[0].name for reply in replies]
    assert names == ["create_session", "list_sessions", "finish", "finish"]
    assert json.loads(replies[0].tool_calls[0].arguments_json) == {"name": "main"}
    assert replies[1].tool_calls[0].arguments_json == "{}"
    assert all(len(reply.tool_calls) == 1 and reply.text == "" for reply in replies)
    assert replies[0].usage.prompt_tokens == backend.count_tokens(REQUEST.messages, REQUEST.tools)
    assert all(reply.usage.approximate for reply in replies)


async def test_scripted_resumes_where_a_restarted_policy_left_off() -> None:
    calls = [ScriptedCall("think", {"thought": str(n)}) for n in range(3)]
    backend = ScriptedBackend(calls, start=2)
    reply = await backend.complete(REQUEST)
    assert json.loads(reply.tool_calls[0].arguments_json) == {"thought": "2"}
    assert backend.position == 3
