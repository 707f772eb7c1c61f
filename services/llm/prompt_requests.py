"""The rendered prompt as the model port's request, field for field.

Kept out of services/trajectory: services.llm.port reaches its I/O adapters, which the
pure model may not import. The policy and the summarizer both convert through here.
"""

from __future__ import annotations

from services.llm.port import (
    ChatMessage,
    ModelRequest,
    SamplingParams,
    ToolCallRequest,
    ToolDefinition,
)
from services.trajectory.prompt_model import Prompt


def to_model_request(prompt: Prompt) -> ModelRequest:
    """The port's request for a rendered prompt, field for field."""
    messages = tuple(
        ChatMessage(
            m.role,
            m.content,
            tuple(ToolCallRequest(c.call_id, c.name, c.arguments_json) for c in m.tool_calls),
            m.tool_call_id,
        )
        for m in prompt.messages
    )
    tools = tuple(
        ToolDefinition(t.name, t.description, t.parameters_json_schema) for t in prompt.tools
    )
    s = prompt.sampling
    return ModelRequest(
        messages, tools, SamplingParams(s.temperature, s.top_p, s.max_tokens, s.seed)
    )
