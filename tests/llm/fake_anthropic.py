"""A loopback server that speaks the Anthropic Messages API (content blocks, tool_use, usage)."""

from __future__ import annotations

import uuid
from typing import Any

from fake_model_api import LoopbackModelAPI, RequestRejected, prompt_size

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
    """

    path = "/v1/messages"

    def check_request(self, body: dict[str, Any], headers: Any) -> None:
        if not headers.get("x-api-key") or not headers.get("anthropic-version"):
            raise RequestRejected("x-api-key and anthropic-version headers are required")
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
            "usage": {
                "input_tokens": prompt_size(body),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": reply.get("output_tokens", 7),
            },
        }

    def error_body(self, status: int, message: str = "") -> dict[str, Any]:
        kind = _ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message or kind}}
