"""The tool and the ReAct exchange that the model API adapter tests send."""

from __future__ import annotations

import json

from services.llm import ChatMessage, ToolCallRequest, ToolDefinition

RUN = ToolDefinition(
    "run_command",
    "Run a shell command.",
    json.dumps({"type": "object", "properties": {"command": {"type": "string"}}}),
)


def react_exchange(call_id: str, assistant_text: str) -> tuple[ChatMessage, ...]:
    """System, task, an assistant turn calling `run_command` as `call_id`, its result, guidance.

    A tool result followed by guidance is what the Anthropic API wants in one user turn.
    """
    call = ToolCallRequest(call_id, "run_command", '{"command":"ls"}')
    return (
        ChatMessage("system", "You are an agent."),
        ChatMessage("user", "<task_description>List files.</task_description>"),
        ChatMessage("assistant", assistant_text, tool_calls=(call,)),
        ChatMessage("tool", '{"success": true, "message": "a.txt"}', tool_call_id=call_id),
        ChatMessage("user", "<real_user>Also show hidden files.</real_user>"),
    )
