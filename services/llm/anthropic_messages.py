"""The Anthropic Messages API with native tool use, over httpx."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

import httpx

from services.llm.approximate import approximate_token_count
from services.llm.http_json import RetryPolicy, post_json
from services.llm.port import (
    ChatMessage,
    FatalBackendError,
    ModelReply,
    ModelRequest,
    ModelSpecData,
    ToolCallRequest,
    ToolDefinition,
    canonical_json,
)

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"


def to_messages_payload(request: ModelRequest, model: str) -> dict[str, Any]:
    """The Messages API body: system prompt apart, tool results as user content blocks."""
    system = "\n\n".join(m.content for m in request.messages if m.role == "system")
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _content_blocks(message)
        # The API wants a tool result in the user turn right after the tool use, so a tool
        # result and the guidance that follows it are merged into one user turn.
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": role, "content": blocks})
    sampling = request.sampling
    payload: dict[str, Any] = {
        "model": model,
        "max_tokens": sampling.max_tokens,
        "messages": messages,
        "temperature": sampling.temperature,
    }
    # Recent models reject temperature and top_p together; send top_p only when it matters.
    if sampling.top_p < 1.0:
        payload["top_p"] = sampling.top_p
    if system:
        payload["system"] = system
    if request.tools:
        payload["tools"] = [
            {
                "name": tool.name,
                "description": tool.description,
                "input_schema": json.loads(tool.parameters_json_schema or "{}"),
            }
            for tool in request.tools
        ]
    return payload


def _content_blocks(message: ChatMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content}
        ]
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks.extend(
        {
            "type": "tool_use",
            "id": call.call_id,
            "name": call.name,
            "input": json.loads(call.arguments_json or "{}"),
        }
        for call in message.tool_calls
    )
    return blocks


def from_messages_response(body: dict[str, Any]) -> tuple[str, tuple[ToolCallRequest, ...]]:
    """The text and the tool calls of a Messages API answer."""
    text: list[str] = []
    calls: list[ToolCallRequest] = []
    for block in body.get("content", []):
        if block.get("type") == "text":
            text.append(block.get("text", ""))
        elif block.get("type") == "tool_use":
            arguments = canonical_json(block.get("input", {}))
            calls.append(ToolCallRequest(block["id"], block["name"], arguments))
    return "".join(text), tuple(calls)


class AnthropicBackend:
    """Claude through the Messages API; token counts from the API's usage."""

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 600.0,
    ) -> None:
        api_key = api_key or os.environ.get("ANTHROPIC_API_KEY", "")
        if not api_key:
            raise FatalBackendError("anthropic backend needs ANTHROPIC_API_KEY (or api_key=)")
        base_url = base_url or os.environ.get("APOLLO_ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        self._spec = ModelSpecData(backend="anthropic", model=model)
        self._url = base_url.rstrip("/") + "/v1/messages"
        self._headers = {"x-api-key": api_key, "anthropic-version": API_VERSION}
        self._retry = retry or RetryPolicy()
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=10.0))

    @property
    def spec(self) -> ModelSpecData:
        return self._spec

    async def complete(self, request: ModelRequest) -> ModelReply:
        """One Messages API call, retried on 429/5xx/overload."""
        started = time.perf_counter()
        payload = to_messages_payload(request, self._spec.model)
        body = await post_json(self._client, self._url, self._headers, payload, self._retry)
        text, calls = from_messages_response(body)
        usage = body.get("usage", {})
        # Cached prompt tokens are reported apart; the prompt is all of them.
        prompt_tokens = sum(
            usage.get(key) or 0
            for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        return ModelReply(
            text=text,
            tool_calls=calls,
            prompt_tokens=prompt_tokens,
            completion_tokens=usage.get("output_tokens", 0),
            approximate_tokens=False,
            latency_ms=round((time.perf_counter() - started) * 1000),
        )

    def count_tokens(self, messages: Sequence[ChatMessage], tools: Sequence[ToolDefinition]) -> int:
        """Approximate (characters / 3.5): Claude's tokenizer is not public."""
        return approximate_token_count(messages, tools)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()
