"""The Anthropic Messages API with native tool use and prompt caching, on the official SDK."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import anthropic
from anthropic.types import Message

from services.llm.api_errors import DEFAULT_MAX_RETRIES, connection_error, status_error
from services.llm.approximate import approximate_token_count
from services.llm.port import (
    ChatMessage,
    FatalBackendError,
    ModelReply,
    ModelSpecData,
    Prompt,
    TokenUsage,
    ToolCallRequest,
    ToolDefinition,
)
from services.trajectory.canonical import canonical_json

DEFAULT_BASE_URL = "https://api.anthropic.com"
# A breakpoint: the API caches the prompt up to and including the block that carries it.
CACHE_BREAKPOINT = {"type": "ephemeral"}


# Two cache breakpoints, because our prompts are prefix-stable: every prompt of a context
# window is a prefix of the next. The one on the system prompt covers the tools and the system
# prompt (the API caches tools first), which every window of the trajectory starts with, the
# first one after a summary included. The one on the newest message's last block writes the
# whole prompt, which the next step extends by a few blocks and so reads back (the API looks
# for hits up to 20 blocks before a breakpoint), paying full price only for its new turn. A
# prompt without tools (a summary's) is asked once and never extended, so writing all of it
# would only add the cache-write premium.
def to_messages_payload(prompt: Prompt, model: str) -> dict[str, Any]:
    """The Messages API arguments: system prompt apart, tool results as user content blocks."""
    system = "\n\n".join(m.content for m in prompt.messages if m.role == "system")
    messages: list[dict[str, Any]] = []
    for message in prompt.messages:
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
    if prompt.tools and messages and messages[-1]["content"]:
        messages[-1]["content"][-1]["cache_control"] = CACHE_BREAKPOINT
    sampling = prompt.sampling
    # The SDK has no sampling arguments; the API still takes them in the body.
    # Recent models reject temperature and top_p together; send top_p only when it matters.
    body: dict[str, Any] = {"temperature": sampling.temperature}
    if sampling.top_p < 1.0:
        body["top_p"] = sampling.top_p
    payload: dict[str, Any] = {
        "model": model,
        "max_tokens": sampling.max_tokens,
        "messages": messages,
        "extra_body": body,
    }
    if system:
        payload["system"] = [{"type": "text", "text": system, "cache_control": CACHE_BREAKPOINT}]
    if prompt.tools:
        payload["tools"] = [
            {
                "name": tool.name,
                "description": tool.description,
                "input_schema": json.loads(tool.parameters_json_schema or "{}"),
            }
            for tool in prompt.tools
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


def from_message(message: Message) -> tuple[str, tuple[ToolCallRequest, ...]]:
    """The text and the tool calls of a Messages API answer."""
    text: list[str] = []
    calls: list[ToolCallRequest] = []
    for block in message.content:
        if block.type == "text":
            text.append(block.text)
        elif block.type == "tool_use":
            calls.append(ToolCallRequest(block.id, block.name, canonical_json(block.input)))
    return "".join(text), tuple(calls)


def usage_of(message: Message) -> TokenUsage:
    """The call's tokens; the API counts cache reads and writes apart from `input_tokens`."""
    usage = message.usage
    read = usage.cache_read_input_tokens or 0
    written = usage.cache_creation_input_tokens or 0
    return TokenUsage(
        prompt_tokens=usage.input_tokens + read + written,
        completion_tokens=usage.output_tokens,
        approximate=False,
        cache_read_tokens=read,
        cache_write_tokens=written,
    )


class AnthropicBackend:
    """Claude through the Messages API; token counts from the API's usage."""

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str = "",
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout_s: float = 600.0,
    ) -> None:
        if not api_key:
            raise FatalBackendError("anthropic backend needs ANTHROPIC_API_KEY (or api_key=)")
        self._spec = ModelSpecData(backend="anthropic", model=model)
        self._max_retries = max_retries
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url or DEFAULT_BASE_URL,
            max_retries=max_retries,
            timeout=anthropic.Timeout(timeout_s, connect=10.0),
        )

    @property
    def spec(self) -> ModelSpecData:
        return self._spec

    async def complete(self, prompt: Prompt) -> ModelReply:
        """One Messages API call; the SDK retries 408/409/429/5xx/overload and network errors."""
        started = time.perf_counter()
        try:
            message = await self._client.messages.create(
                **to_messages_payload(prompt, self._spec.model)
            )
        except anthropic.APIStatusError as error:
            detail = f"{error.type}: {error.api_message}"
            raise status_error(
                error.request.url, error.status_code, detail, self._max_retries
            ) from error
        except anthropic.APIConnectionError as error:
            raise connection_error(error.request.url, error, self._max_retries) from error
        text, calls = from_message(message)
        return ModelReply(
            text=text,
            tool_calls=calls,
            usage=usage_of(message),
            latency_ms=round((time.perf_counter() - started) * 1000),
        )

    def count_tokens(self, messages: Sequence[ChatMessage], tools: Sequence[ToolDefinition]) -> int:
        """Approximate (characters / 3.5): Claude's tokenizer is not public."""
        return approximate_token_count(messages, tools)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()
