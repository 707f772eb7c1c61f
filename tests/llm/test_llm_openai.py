"""The OpenAI-compatible backend against a loopback chat completions server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_openai import FakeOpenAI
from react_exchange import RUN, react_exchange

from services.llm import FatalBackendError, Prompt, RetryableBackendError, SamplingParams
from services.llm.openai_chat import OpenAIBackend

pytestmark = pytest.mark.timeout(30)

CONVERSATION = react_exchange("call_1", "")


@pytest.fixture
async def backend(openai_api: FakeOpenAI) -> AsyncIterator[OpenAIBackend]:
    client = OpenAIBackend("ckpt", base_url=openai_api.base_url + "/v1", max_retries=2)
    yield client
    await client.aclose()


async def test_a_tool_call_round_trips_with_usage(
    backend: OpenAIBackend, openai_api: FakeOpenAI
) -> None:
    openai_api.queue_reply(
        {"content": None, "tool_calls": [("run_command", '{"command": "ls -a"}')]}
    )
    reply = await backend.complete(Prompt(CONVERSATION, (RUN,), SamplingParams(seed=11)))
    [call] = reply.tool_calls
    assert (call.name, call.arguments_json) == ("run_command", '{"command":"ls -a"}')
    assert reply.text == ""
    assert reply.usage.completion_tokens == 9
    assert reply.usage.prompt_tokens > 0
    assert not reply.usage.approximate

    sent = openai_api.requests[-1]
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "tool", "user"]
    assert sent["messages"][2]["tool_calls"][0]["function"]["arguments"] == '{"command":"ls"}'
    assert sent["messages"][3]["tool_call_id"] == "call_1"
    assert sent["tools"][0]["function"]["name"] == "run_command"
    assert (sent["seed"], sent["max_tokens"], sent["temperature"]) == (11, 8192, 1.0)
    assert "authorization" not in {key.lower() for key in openai_api.headers[-1]}


async def test_arguments_that_are_not_json_come_back_as_a_parse_failure(
    backend: OpenAIBackend, openai_api: FakeOpenAI
) -> None:
    openai_api.queue_reply({"content": "x", "tool_calls": [("run_command", '{"command": ')]})
    reply = await backend.complete(Prompt(CONVERSATION[:2], (RUN,)))
    assert reply.tool_calls == ()
    assert reply.parse_failure is not None
    assert reply.parse_failure.kind == "bad_arguments"


async def test_a_server_without_usage_gets_approximate_counts(
    backend: OpenAIBackend, openai_api: FakeOpenAI
) -> None:
    openai_api.queue_reply({"content": "Done.", "usage": False})
    reply = await backend.complete(Prompt(CONVERSATION[:2], (RUN,)))
    assert reply.usage.approximate
    assert reply.usage.prompt_tokens == backend.count_tokens(CONVERSATION[:2], (RUN,))
    assert reply.usage.completion_tokens > 0


async def test_text_tool_format_puts_tools_in_the_prompt_and_parses_the_answer(
    openai_api: FakeOpenAI,
) -> None:
    client = OpenAIBackend(
        "trained-smollm2", base_url=openai_api.base_url + "/v1", tool_format="text",
        max_retries=2, api_key="secret",
    )  # fmt: skip
    openai_api.queue_reply(
        {"content": 'Sure.\n<tool_call>\n{"name": "run_command", "arguments": {"command": "ls"}}'}
    )
    reply = await client.complete(Prompt(CONVERSATION, (RUN,)))
    await client.aclose()
    assert reply.tool_calls[0].arguments_json == '{"command":"ls"}'
    sent = openai_api.requests[-1]
    assert "tools" not in sent
    assert "<tools>" in sent["messages"][0]["content"]
    assert "<tool_call>" in sent["messages"][2]["content"]
    assert openai_api.headers[-1]["Authorization"] == "Bearer secret"


async def test_text_tool_format_without_a_call_reports_why(
    openai_api: FakeOpenAI,
) -> None:
    client = OpenAIBackend(
        "m", base_url=openai_api.base_url + "/v1", tool_format="text", max_retries=2
    )
    openai_api.queue_reply({"content": "I would rather not."})
    reply = await client.complete(Prompt(CONVERSATION[:2], (RUN,)))
    await client.aclose()
    assert reply.tool_calls == ()
    assert reply.parse_failure is not None
    assert reply.parse_failure.kind == "no_tool_call"


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_transient_failures_are_retried(
    backend: OpenAIBackend, openai_api: FakeOpenAI, status: int
) -> None:
    openai_api.fail_next(status)
    openai_api.queue_reply({"tool_calls": [("run_command", "{}")]})
    reply = await backend.complete(Prompt(CONVERSATION[:2], (RUN,)))
    assert reply.tool_calls[0].name == "run_command"
    assert len(openai_api.requests) == 2


async def test_retries_give_up_with_a_retryable_error(
    backend: OpenAIBackend, openai_api: FakeOpenAI
) -> None:
    for _ in range(3):
        openai_api.fail_next(500)
    with pytest.raises(RetryableBackendError, match="after 3 attempts"):
        await backend.complete(Prompt(CONVERSATION[:2], (RUN,)))


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_client_errors_are_fatal_at_once(
    backend: OpenAIBackend, openai_api: FakeOpenAI, status: int
) -> None:
    openai_api.fail_next(status)
    with pytest.raises(FatalBackendError, match=f"answered {status}"):
        await backend.complete(Prompt(CONVERSATION[:2], (RUN,)))
    assert len(openai_api.requests) == 1


def test_an_unknown_tool_format_is_rejected() -> None:
    with pytest.raises(FatalBackendError, match="tool_format"):
        OpenAIBackend("m", base_url="http://127.0.0.1:1/v1", tool_format="xml")
