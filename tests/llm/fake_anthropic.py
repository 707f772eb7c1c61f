"""A loopback server that speaks the Anthropic Messages API (content blocks, tool_use, usage,
prompt caching)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.llm.fake_model_api import LoopbackModelAPI, RequestRejected

# The real API looks for a cached prefix at most this many blocks before a breakpoint.
_LOOKBACK_BLOCKS = 20

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class FakeAnthropic(LoopbackModelAPI):
    """Checks requests the way the real API does (in part) and answers queued replies.

    A queued reply is {"text": str, "tool_use": [(name, input), ...], "output_tokens": int}.
    Prompt caching works as the API's does: a `cache_control` breakpoint writes the prefix
    up to its block (tools, then system, then messages), and a later request whose blocks
    start with a written prefix ending at most 20 blocks before one of its breakpoints reads
    it. A block costs len(its JSON) // 4 tokens.
    """

    path = "/v1/messages"

    def __init__(self) -> None:
        super().__init__()
        self._cached_prefixes: set[tuple[str, ...]] = set()

    def check_request(self, body: dict[str, Any], headers: Any) -> None:
        # The SDK sends the key as a bearer token; older clients sent x-api-key.
        has_key = headers.get("x-api-key") or headers.get("authorization", "").startswith("Bearer ")
        if not has_key or not headers.get("anthropic-version"):
            raise RequestRejected("an API key and the anthropic-version header are required")
        for field in ("model", "max_tokens", "messages"):
            if field not in body:
                raise RequestRejected(f"{field}: Field required")
        if "temperature" in body and "top_p" in body:
            raise RequestRejected("temperature and top_p cannot both be specified")
        messages = body["messages"]
        if not messages or messages[0]["role"] != "user":
            raise RequestRejected("messages: first message must use the user role")
        open_tool_uses: set[str] = set()
        for previous, message in zip([None, *messages], messages, strict=False):
            if message["role"] not in ("user", "assistant"):
                raise RequestRejected(f"messages: unexpected role {message['role']!r}")
            if previous is not None and previous["role"] == message["role"]:
                raise RequestRejected("messages: roles must alternate between user and assistant")
            for block in message["content"]:
                if block["type"] == "tool_use":
                    open_tool_uses.add(block["id"])
                elif block["type"] == "tool_result":
                    if block["tool_use_id"] not in open_tool_uses:
                        raise RequestRejected("tool_result block with no matching tool_use")
                    open_tool_uses.discard(block["tool_use_id"])
        for tool in body.get("tools", []):
            if tool.get("input_schema", {}).get("type") != "object":
                raise RequestRejected(f"tools: {tool.get('name')}: input_schema must be an object")

    def build_reply(self, body: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if reply.get("text"):
            content.append({"type": "text", "text": reply["text"]})
        for name, arguments in reply.get("tool_use", []):
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{uuid.uuid4().hex[:20]}",
                    "name": name,
                    "input": arguments,
                }
            )
        return {
            "id": f"msg_{uuid.uuid4().hex[:20]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": "tool_use" if reply.get("tool_use") else "end_turn",
            "stop_sequence": None,
            "usage": {**self._cache_usage(body), "output_tokens": reply.get("output_tokens", 7)},
        }

    def _cache_usage(self, body: dict[str, Any]) -> dict[str, int]:
        blocks, breakpoints = _cacheable_blocks(body)
        read_end = 0
        for breakpoint in breakpoints:
            for end in range(breakpoint + 1, max(0, breakpoint - _LOOKBACK_BLOCKS), -1):
                if tuple(blocks[:end]) in self._cached_prefixes:
                    read_end = max(read_end, end)
                    break
        write_end = max(read_end, breakpoints[-1] + 1) if breakpoints else read_end
        self._cached_prefixes.update(tuple(blocks[: b + 1]) for b in breakpoints)
        return {
            "input_tokens": _tokens(blocks[write_end:]),
            "cache_read_input_tokens": _tokens(blocks[:read_end]),
            "cache_creation_input_tokens": _tokens(blocks[read_end:write_end]),
        }

    def error_body(self, status: int, message: str = "") -> dict[str, Any]:
        kind = _ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message or kind}}


def _cacheable_blocks(body: dict[str, Any]) -> tuple[list[str], list[int]]:
    """The request's blocks in cache order, as JSON without their breakpoints, and the
    indices of the blocks that carry one."""
    system = body.get("system", [])
    system_blocks = [{"type": "text", "text": system}] if isinstance(system, str) else system
    ordered = [*body.get("tools", []), *system_blocks]
    ordered += [
        {"role": message["role"], **block}
        for message in body["messages"]
        for block in message["content"]
    ]
    breakpoints = [index for index, block in enumerate(ordered) if "cache_control" in block]
    blocks = [
        json.dumps({k: v for k, v in block.items() if k != "cache_control"}, sort_keys=True)
        for block in ordered
    ]
    return blocks, breakpoints


def _tokens(blocks: list[str]) -> int:
    return sum(len(block) // 4 for block in blocks)
