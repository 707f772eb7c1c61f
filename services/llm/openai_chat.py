"""OpenAI-compatible chat completions on the official SDK, the API vLLM and SGLang serve with."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import openai
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionMessage

from services.llm.api_errors import DEFAULT_MAX_RETRIES, connection_error, status_error
from services.llm.approximate import approximate_text_tokens, approximate_token_count
from services.llm.port import (
    ChatMessage,
    FatalBackendError,
    ModelReply,
    ModelSpecData,
    ParseFailure,
    Prompt,
    TokenUsage,
    ToolCallRequest,
    ToolDefinition,
    new_call_id,
)
from services.llm.text_tools import parse_tool_calls, render_text_conversation
from services.trajectory.canonical import canonical_json

# "native": the server's tool calling (vLLM needs --enable-auto-tool-choice and a parser).
# "text": tools in the system prompt and calls parsed from the text, the format our local
# model is trained on, for checkpoints served without a tool parser.
TOOL_FORMATS = ("native", "text")


def to_chat_payload(prompt: Prompt, model: str, tool_format: str) -> dict[str, Any]:
    """The chat completions arguments."""
    sampling = prompt.sampling
    payload: dict[str, Any] = {
        "model": model,
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
    }
    if sampling.seed is not None:
        payload["seed"] = sampling.seed
    if tool_format == "text":
        payload["messages"] = render_text_conversation(prompt.messages, prompt.tools)
        return payload
    payload["messages"] = [_native_message(message) for message in prompt.messages]
    if prompt.tools:
        payload["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": json.loads(tool.parameters_json_schema or "{}"),
                },
            }
            for tool in prompt.tools
        ]
    return payload


def _native_message(message: ChatMessage) -> dict[str, Any]:
    rendered: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        rendered["tool_calls"] = [
            {
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_json},
            }
            for call in message.tool_calls
        ]
    if message.role == "tool":
        rendered["tool_call_id"] = message.tool_call_id
    return rendered


def from_native_calls(
    message: ChatCompletionMessage,
) -> tuple[tuple[ToolCallRequest, ...], ParseFailure | None]:
    """The usable calls; servers may hand back arguments that are not JSON, which we report."""
    calls: list[ToolCallRequest] = []
    problems: list[str] = []
    for raw in message.tool_calls or []:
        if raw.type != "function":
            problems.append(f"a {raw.type} tool call is not a function call")
            continue
        name = raw.function.name
        try:
            arguments = json.loads(raw.function.arguments or "{}")
        except json.JSONDecodeError:
            problems.append(f'the "arguments" of {name} are not JSON')
            continue
        if not isinstance(arguments, dict):
            problems.append(f'the "arguments" of {name} are not a JSON object')
            continue
        calls.append(ToolCallRequest(raw.id or new_call_id(), name, canonical_json(arguments)))
    failure = ParseFailure("bad_arguments", "; ".join(problems)) if problems and not calls else None
    return tuple(calls), failure


def usage_of(usage: CompletionUsage) -> TokenUsage:
    """The call's tokens, with the cached ones where the server reports them."""
    details = usage.prompt_tokens_details
    return TokenUsage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        approximate=False,
        cache_read_tokens=(details and details.cached_tokens) or 0,
        cache_write_tokens=(details and details.cache_write_tokens) or 0,
    )


class OpenAIBackend:
    """A chat completions server (vLLM, SGLang, OpenAI) with native or text tool calls."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str = "",
        tool_format: str = "native",
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout_s: float = 600.0,
    ) -> None:
        if not base_url:
            raise FatalBackendError(
                "openai backend needs the server's /v1 URL: APOLLO_OPENAI_BASE_URL or base_url="
            )
        if tool_format not in TOOL_FORMATS:
            raise FatalBackendError(
                f"tool_format must be one of {TOOL_FORMATS}, not {tool_format!r}"
            )
        self._spec = ModelSpecData(backend="openai", model=model)
        self._tool_format = tool_format
        self._max_retries = max_retries
        # Local vLLM/SGLang servers usually run without a key. The SDK insists on one, so a
        # keyless client gets a placeholder and each call says to send no Authorization.
        self._call_headers = {} if api_key else {"Authorization": openai.omit}
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "no-key",
            base_url=base_url,
            max_retries=max_retries,
            timeout=openai.Timeout(timeout_s, connect=10.0),
        )

    @property
    def spec(self) -> ModelSpecData:
        return self._spec

    async def complete(self, prompt: Prompt) -> ModelReply:
        """One chat completion; the SDK retries 408/409/429/5xx and network errors."""
        started = time.perf_counter()
        try:
            completion = await self._client.chat.completions.create(
                **to_chat_payload(prompt, self._spec.model, self._tool_format),
                extra_headers=self._call_headers,
            )
        except openai.APIStatusError as error:
            detail = f"{error.type or error.code or 'error'}: {error.message}"
            raise status_error(
                error.request.url, error.status_code, detail, self._max_retries
            ) from error
        except openai.APIConnectionError as error:
            raise connection_error(error.request.url, error, self._max_retries) from error
        if not completion.choices:
            raise FatalBackendError(f"{self._client.base_url} answered without choices[0].message")
        message = completion.choices[0].message
        text = message.content or ""
        if self._tool_format == "text":
            parsed = parse_tool_calls(text)
            calls, failure = (parsed, None) if isinstance(parsed, tuple) else ((), parsed)
        else:
            calls, failure = from_native_calls(message)
        # Some servers leave usage out; then both counts are our estimate.
        usage = (
            usage_of(completion.usage)
            if completion.usage
            else TokenUsage(
                prompt_tokens=self.count_tokens(prompt.messages, prompt.tools),
                completion_tokens=approximate_text_tokens(text),
                approximate=True,
            )
        )
        return ModelReply(
            text=text,
            tool_calls=calls,
            usage=usage,
            latency_ms=round((time.perf_counter() - started) * 1000),
            parse_failure=failure,
        )

    def count_tokens(self, messages: Sequence[ChatMessage], tools: Sequence[ToolDefinition]) -> int:
        """Approximate (characters / 3.5): the served model's tokenizer is not at hand."""
        return approximate_token_count(messages, tools)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()
