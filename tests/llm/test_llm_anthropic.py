"""The Anthropic backend against a loopback Messages API, and live when a key is set."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import AsyncIterator

import pytest
from fake_anthropic import FakeAnthropic
from react_exchange import RUN, react_exchange

from services.llm import (
    ChatMessage,
    FatalBackendError,
    Prompt,
    RetryableBackendError,
    SamplingParams,
    backend_from_spec,
)
from services.llm.anthropic_messages import AnthropicBackend

pytestmark = pytest.mark.timeout(30)

CONVERSATION = react_exchange("toolu_1", "Listing.")


@pytest.fixture
async def backend(anthropic_api: FakeAnthropic) -> AsyncIterator[AnthropicBackend]:
    client = AnthropicBackend(
        "claude-test", api_key="test-key", base_url=anthropic_api.base_url, max_retries=2
    )
    yield client
    await client.aclose()


async def test_a_tool_call_round_trips_with_usage(
    backend: AnthropicBackend, anthropic_api: FakeAnthropic
) -> None:
    anthropic_api.queue_reply(
        {"text": "Hidden files too.", "tool_use": [("run_command", {"command": "ls -a"})]}
    )
    reply = await backend.complete(Prompt(CONVERSATION, (RUN,), SamplingParams(0.5)))
    assert reply.text == "Hidden files too."
    [call] = reply.tool_calls
    assert (call.name, call.arguments_json) == ("run_command", '{"command":"ls -a"}')
    assert call.call_id.startswith("toolu_")
    assert reply.usage.prompt_tokens > 0
    assert reply.usage.completion_tokens == 7
    assert not reply.usage.approximate
    assert reply.parse_failure is None

    sent = anthropic_api.requests[-1]
    assert sent["system"] == [
        {"type": "text", "text": "You are an agent.", "cache_control": {"type": "ephemeral"}}
    ]
    assert sent["temperature"] == 0.5
    assert "top_p" not in sent
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert [b["type"] for b in sent["messages"][2]["content"]] == ["tool_result", "text"]
    assert sent["tools"][0]["input_schema"]["properties"]["command"] == {"type": "string"}
    assert anthropic_api.headers[-1]["Authorization"] == "Bearer test-key"


async def test_a_prompt_without_tools_marks_only_the_system_prompt_for_caching(
    backend: AnthropicBackend, anthropic_api: FakeAnthropic
) -> None:
    # A summary's prompt is asked once and never extended: writing all of it would only cost.
    anthropic_api.queue_reply({"text": "<state_snapshot>...</state_snapshot>"})
    reply = await backend.complete(Prompt(CONVERSATION[:2], ()))
    sent = anthropic_api.requests[-1]
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert not [b for m in sent["messages"] for b in m["content"] if "cache_control" in b]
    assert reply.usage.cache_write_tokens < reply.usage.prompt_tokens


async def test_a_text_answer_has_no_tool_call(
    backend: AnthropicBackend, anthropic_api: FakeAnthropic
) -> None:
    anthropic_api.queue_reply({"text": "I am done."})
    reply = await backend.complete(Prompt(CONVERSATION[:2], (RUN,)))
    assert (reply.text, reply.tool_calls) == ("I am done.", ())


@pytest.mark.parametrize("status", [429, 500, 529])
async def test_transient_failures_are_retried(
    backend: AnthropicBackend, anthropic_api: FakeAnthropic, status: int
) -> None:
    anthropic_api.fail_next(status)
    anthropic_api.fail_next(status)
    anthropic_api.queue_reply({"tool_use": [("run_command", {"command": "ls"})]})
    reply = await backend.complete(Prompt(CONVERSATION[:2], (RUN,)))
    assert reply.tool_calls[0].name == "run_command"
    assert len(anthropic_api.requests) == 3


async def test_retries_give_up_with_a_retryable_error(
    backend: AnthropicBackend, anthropic_api: FakeAnthropic
) -> None:
    for _ in range(3):
        anthropic_api.fail_next(529)
    with pytest.raises(RetryableBackendError, match=r"after 3 attempts.*overloaded_error"):
        await backend.complete(Prompt(CONVERSATION[:2], (RUN,)))


async def test_a_bad_request_is_fatal_at_once_with_the_apis_message(
    backend: AnthropicBackend, anthropic_api: FakeAnthropic
) -> None:
    # top_p and temperature together are rejected by the (fake) API, as by recent models.
    request = Prompt(CONVERSATION[:2], (RUN,), SamplingParams(top_p=0.9))
    with pytest.raises(FatalBackendError, match="400 invalid_request_error: temperature and top_p"):
        await backend.complete(request)
    assert len(anthropic_api.requests) == 1


async def test_retry_after_is_honoured(
    anthropic_api: FakeAnthropic,
) -> None:
    client = AnthropicBackend("m", api_key="k", base_url=anthropic_api.base_url, max_retries=1)
    anthropic_api.fail_next(429, {"retry-after": "0.3"})
    started = time.perf_counter()
    await client.complete(Prompt(CONVERSATION[:2], ()))
    await client.aclose()
    assert time.perf_counter() - started >= 0.3


async def test_an_unreachable_server_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens there once the socket closes
    base_url = f"http://127.0.0.1:{closed_port}"
    client = AnthropicBackend("m", api_key="k", base_url=base_url, max_retries=1)
    with pytest.raises(RetryableBackendError, match="ConnectError"):
        await client.complete(Prompt(CONVERSATION[:2], ()))
    await client.aclose()


@pytest.mark.skipif(not os.environ.get("ANTHROPIC_API_KEY"), reason="ANTHROPIC_API_KEY is not set")
@pytest.mark.timeout(120)
async def test_live_anthropic_calls_a_tool() -> None:
    model = os.environ.get("APOLLO_LIVE_ANTHROPIC_MODEL", "claude-haiku-4-5")
    client = backend_from_spec(f"anthropic:{model}")
    request = Prompt(
        (ChatMessage("user", "List the files of the current directory with the tool."),),
        (RUN,),
        SamplingParams(temperature=0.0, max_tokens=256),
    )
    reply = await client.complete(request)
    await client.aclose()
    assert reply.tool_calls
    assert reply.tool_calls[0].name == "run_command"
    assert reply.usage.prompt_tokens > 0
