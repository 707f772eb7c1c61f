"""OpenAI-compatible chat completions, the API vLLM and SGLang serve trained checkpoints with."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

import httpx

from services.llm.approximate import approximate_text_tokens, approximate_token_count
from services.llm.http_json import RetryPolicy, post_json
from services.llm.port import (
    ChatMessage,
    FatalBackendError,
    ModelReply,
    ModelRequest,
    ModelSpecData,
    ParseFailure,
    ToolCallRequest,
    ToolDefinition,
    canonical_json,
    new_call_id,
)
from services.llm.text_tools import parse_tool_calls, render_text_conversation

# "native": the server's tool calling (vLLM needs --enable-auto-tool-choice and a parser).
# "text": tools in the system prompt and calls parsed from the text, the format our local
# model is trained on, for checkpoints served without a tool parser.
TOOL_FORMATS = ("native", "text")


def to_chat_payload(request: ModelRequest, model: str, tool_format: str) -> dict[str, Any]:
    """The chat completions body."""
    sampling = request.sampling
    payload: dict[str, Any] = {
        "model": model,
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
    }
    if sampling.seed is not None:
        payload["seed"] = sampling.seed
    if tool_format == "text":
        payload["messages"] = render_text_conversation(request.messages, request.tools)
        return payload
    payload["messages"] = [_native_message(message) for message in request.messages]
    if request.tools:
        payload["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": json.loads(tool.parameters_json_schema or "{}"),
                },
            }
            for tool in request.tools
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
    raw_calls: list[dict[str, Any]],
) -> tuple[tuple[ToolCallRequest, ...], ParseFailure | None]:
    """The usable calls; servers may hand back arguments that are not JSON, which we report."""
    calls: list[ToolCallRequest] = []
    problems: list[str] = []
    for raw in raw_calls:
        function = raw.get("function", {})
        name = function.get("name", "")
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except json.JSONDecodeError:
            problems.append(f'the "arguments" of {name} are not JSON')
            continue
        if not isinstance(arguments, dict):
            problems.append(f'the "arguments" of {name} are not a JSON object')
            continue
        calls.append(
            ToolCallRequest(raw.get("id") or new_call_id(), name, canonical_json(arguments))
        )
    failure = ParseFailure("bad_arguments", "; ".join(problems)) if problems and not calls else None
    return tuple(calls), failure


class OpenAIBackend:
    """A chat completions server (vLLM, SGLang, OpenAI) with native or text tool calls."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str | None = None,
        tool_format: str = "native",
        retry: RetryPolicy | None = None,
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
        api_key = (
            api_key
            or os.environ.get("APOLLO_OPENAI_API_KEY")
            or os.environ.get("OPENAI_API_KEY", "")
        )
        self._spec = ModelSpecData(backend="openai", model=model)
        self._url = base_url.rstrip("/") + "/chat/completions"
        # Local vLLM/SGLang servers usually run without a key.
        self._headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._tool_format = tool_format
        self._retry = retry or RetryPolicy()
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=10.0))

    @property
    def spec(self) -> ModelSpecData:
        return self._spec

    async def complete(self, request: ModelRequest) -> ModelReply:
        """One chat completion, retried on 429/5xx."""
        started = time.perf_counter()
        payload = to_chat_payload(request, self._spec.model, self._tool_format)
        body = await post_json(self._client, self._url, self._headers, payload, self._retry)
        try:
            message = body["choices"][0]["message"]
        except (KeyError, IndexError, TypeError) as error:
            raise FatalBackendError(f"{self._url} answered without choices[0].message") from error
        text = message.get("content") or ""
        if self._tool_format == "text":
            parsed = parse_tool_calls(text)
            calls, failure = (parsed, None) if isinstance(parsed, tuple) else ((), parsed)
        else:
            calls, failure = from_native_calls(message.get("tool_calls") or [])
        # Some servers leave usage out; then both counts are our estimate.
        usage = body.get("usage") or {
            "prompt_tokens": self.count_tokens(request.messages, request.tools),
            "completion_tokens": approximate_text_tokens(text),
            "approximate": True,
        }
        return ModelReply(
            text=text,
            tool_calls=calls,
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
            approximate_tokens=usage.get("approximate", False),
            latency_ms=round((time.perf_counter() - started) * 1000),
            parse_failure=failure,
        )

    def count_tokens(self, messages: Sequence[ChatMessage], tools: Sequence[ToolDefinition]) -> int:
        """Approximate (characters / 3.5): the served model's tokenizer is not at hand."""
        return approximate_token_count(messages, tools)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()
