"""A backend that replays a fixed list of tool calls, such as a task's reference solution."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.llm.approximate import approximate_text_tokens, approximate_token_count
from services.llm.port import (
    ChatMessage,
    ModelReply,
    ModelSpecData,
    Prompt,
    TokenUsage,
    ToolCallRequest,
    ToolDefinition,
    new_call_id,
)
from services.trajectory.canonical import canonical_json
from services.trajectory.state import FINISH_TOOL

# Backends that replay calls worked out elsewhere: they write no prose (no summaries).
REPLAYING_BACKENDS = frozenset({"scripted", "teacher"})


@dataclass(frozen=True)
class ScriptedCall:
    """One tool call of a script: a tool name and its arguments."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


class ScriptedBackend:
    """Answers the n-th complete() with the n-th scripted call, then with `finish` forever."""

    def __init__(
        self,
        calls: Sequence[ScriptedCall],
        name: str = "scripted",
        start: int = 0,
        backend: str = "scripted",
    ):
        # `start` lets a restarted policy resume a trajectory at the step it had reached;
        # `backend` names who wrote the calls (the simulated teacher replays its own).
        self._calls = tuple(calls)
        self._next = start
        self._spec = ModelSpecData(backend=backend, model=name)

    @property
    def spec(self) -> ModelSpecData:
        return self._spec

    @property
    def position(self) -> int:
        """How many calls have been answered (including the start offset)."""
        return self._next

    async def complete(self, prompt: Prompt) -> ModelReply:
        """Return the next scripted call; the prompt only feeds the token count."""
        started = time.perf_counter()
        scripted = (
            self._calls[self._next] if self._next < len(self._calls) else ScriptedCall(FINISH_TOOL)
        )
        self._next += 1
        call = ToolCallRequest(
            new_call_id(), scripted.name, canonical_json(dict(scripted.arguments))
        )
        return ModelReply(
            text="",
            tool_calls=(call,),
            usage=TokenUsage(
                prompt_tokens=self.count_tokens(prompt.messages, prompt.tools),
                completion_tokens=approximate_text_tokens(call.name + call.arguments_json),
                approximate=True,
            ),
            latency_ms=round((time.perf_counter() - started) * 1000),
        )

    def count_tokens(self, messages: Sequence[ChatMessage], tools: Sequence[ToolDefinition]) -> int:
        """The approximate count: a script has no tokenizer."""
        return approximate_token_count(messages, tools)
