"""A tokenizer-free token estimate for backends whose tokenizer we do not have."""

from __future__ import annotations

import math
from collections.abc import Sequence

from services.llm.port import ChatMessage, ToolDefinition

# English prose and JSON average about 3.5 characters per token on current BPE vocabularies;
# the estimate only has to place the summary threshold, not bill anyone.
CHARS_PER_TOKEN = 3.5
# Role markers and separators that every chat format adds around a message.
TOKENS_PER_MESSAGE = 4


def approximate_token_count(
    messages: Sequence[ChatMessage], tools: Sequence[ToolDefinition]
) -> int:
    """Estimate prompt tokens as characters / 3.5 plus a few per message."""
    chars = sum(len(message.content) for message in messages)
    chars += sum(
        len(call.name) + len(call.arguments_json)
        for message in messages
        for call in message.tool_calls
    )
    chars += sum(
        len(tool.name) + len(tool.description) + len(tool.parameters_json_schema) for tool in tools
    )
    return math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(messages)


def approximate_text_tokens(text: str) -> int:
    """Estimate the tokens of one generated text."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)
