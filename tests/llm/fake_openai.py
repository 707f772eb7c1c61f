"""A loopback server that speaks OpenAI-compatible chat completions with tools."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.llm.fake_model_api import LoopbackModelAPI, RequestRejected, prompt_size


class FakeOpenAI(LoopbackModelAPI):
    """Checks requests the way vLLM does (in part) and answers queued replies.

    A queued reply is {"content": str | None, "tool_calls": [(name, arguments_text), ...],
    "usage": False to leave usage out}. Like vLLM with prefix caching, it reports as
    `prompt_tokens_details.cached_tokens` the size of the longest earlier request's messages
    that this request's messages start with.
    """

    path = "/v1/chat/completions"

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, ...]] = set()

    def check_request(self, body: dict[str, Any], headers: Any) -> None:
        for field in ("model", "messages"):
            if field not in body:
                raise RequestRejected(f"{field}: Field required")
        announced: set[str] = set()
        for message in body["messages"]:
            if message["role"] not in ("system", "user", "assistant", "tool"):
                raise RequestRejected(f"unexpected role {message['role']!r}")
            for call in message.get("tool_calls", []):
                try:
                    json.loads(call["function"]["arguments"])
                except json.JSONDecodeError as error:
                    raise RequestRejected("tool call arguments must be JSON text") from error
                announced.add(call["id"])
            # With native tools, every tool result must answer an announced call.
            native = "tools" in body
            if (
                native
                and message["role"] == "tool"
                and message.get("tool_call_id") not in announced
            ):
                raise RequestRejected("tool message with no matching assistant tool call")
        for tool in body.get("tools", []):
            if tool.get("type") != "function" or "parameters" not in tool.get("function", {}):
                raise RequestRejected("tools must be {type: function, function: {parameters}}")

    def build_reply(self, body: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
        calls = [
            {
                "id": f"chatcmpl-tool-{uuid.uuid4().hex[:16]}",
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
            for name, arguments in reply.get("tool_calls", [])
        ]
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
        if calls:
            message["tool_calls"] = calls
        answer: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
            ],
        }
        if reply.get("usage", True):
            answer["usage"] = {
                "prompt_tokens": prompt_size(body),
                "completion_tokens": 9,
                "total_tokens": prompt_size(body) + 9,
                "prompt_tokens_details": {"cached_tokens": self._cached_tokens(body)},
            }
        return answer

    def _cached_tokens(self, body: dict[str, Any]) -> int:
        messages = [json.dumps(message, sort_keys=True) for message in body["messages"]]
        cached = max(
            (end for end in range(len(messages) + 1) if tuple(messages[:end]) in self._seen),
            default=0,
        )
        self._seen.add(tuple(messages))
        return prompt_size({"messages": body["messages"][:cached]}) if cached else 0

    def error_body(self, status: int, message: str = "") -> dict[str, Any]:
        return {"error": {"type": "BadRequestError", "code": status, "message": message}}
