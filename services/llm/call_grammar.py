"""Grammar-constrained tool calls, for small local models.

Left free, SmolLM2-135M copies the answer format's placeholder (`TOOL_NAME`) or writes
arguments the tool's schema refuses, so nearly every step would be a null action. Its
answer is therefore held, token by token, to exactly one call in the text format,

    <tool_call>
    {"name": "NAME", "arguments": {...}}
    </tool_call>

where NAME is an offered tool and the arguments are valid under that tool's JSON Schema,
in the order its `properties` list them (sorted, in the built-in specs, as the prompt shows
them) and spaced as `render_tool_call` writes them. The model's own probabilities choose
among the tokens the grammar allows (llguidance computes the allowed set per step); the
prompt is unchanged, so its digest and token count are too, and the recorded answer is
exactly the generated text.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import llguidance
import llguidance.hf
import torch
from llguidance.torch import (
    allocate_token_bitmask,
    apply_token_bitmask_inplace,
    fill_next_token_bitmask,
)
from transformers import LogitsProcessor

from services.llm.port import ToolDefinition
from services.llm.text_tools import CALL_CLOSE, CALL_OPEN

# json.dumps' default separators, as render_tool_call writes a call, and no free whitespace.
_LAYOUT = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


class UnusableToolSchema(ValueError):
    """A tool's argument schema that no grammar can be built from."""


def call_schema(tools: Sequence[ToolDefinition]) -> dict[str, Any]:
    """The JSON Schema of one call to any of `tools`: its name, and arguments valid for it."""
    return {
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "name": {"const": tool.name},
                    "arguments": json.loads(tool.parameters_json_schema or "{}"),
                },
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
            for tool in tools
        ],
        "x-guidance": _LAYOUT,
    }


@functools.lru_cache(maxsize=32)
def call_grammar(tools: tuple[ToolDefinition, ...]) -> str:
    """The grammar (llguidance's Lark dialect) of an answer that is exactly one call."""
    lark = (
        f"start: {json.dumps(CALL_OPEN + chr(10))} call {json.dumps(chr(10) + CALL_CLOSE)}\n"
        f"call: %json {json.dumps(call_schema(tools))}\n"
    )
    grammar = llguidance.LLMatcher.grammar_from_lark(lark)
    failed, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    if failed:
        raise UnusableToolSchema(f"no call grammar for these tools: {'; '.join(messages)}")
    return grammar


def grammar_tokenizer(hf_tokenizer: Any) -> llguidance.LLTokenizer:
    """The model's tokenizer as llguidance needs it (built once per loaded model)."""
    return llguidance.hf.from_tokenizer(hf_tokenizer)


class CallConstraint(LogitsProcessor):
    """Masks every token the call grammar does not allow next, from the end of the prompt on;
    once the call is complete, only the end of the answer is allowed."""

    def __init__(self, tokenizer: llguidance.LLTokenizer, grammar: str, prompt_length: int):
        self._matcher = llguidance.LLMatcher(tokenizer, grammar)
        self._mask = allocate_token_bitmask(1, tokenizer.vocab_size)
        self._consumed = prompt_length

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        new = input_ids[0, self._consumed :].tolist()
        self._consumed += len(new)
        if new and not self._matcher.consume_tokens(new):
            raise RuntimeError(f"a token outside the call grammar: {self._matcher.get_error()}")
        fill_next_token_bitmask(self._matcher, self._mask, 0)
        apply_token_bitmask_inplace(scores, self._mask)
        return scores
