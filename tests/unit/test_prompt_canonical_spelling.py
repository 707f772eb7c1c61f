"""The prompt's canonical JSON is the sorted compact dump of its document; prefix digests match."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from services.trajectory.prompt_model import (
    ChatMessage,
    Prompt,
    SamplingParams,
    ToolCallRequest,
    ToolDefinition,
)

_text = st.text(max_size=20)
_calls = st.builds(ToolCallRequest, _text, _text, _text)
_messages = st.builds(
    ChatMessage,
    st.sampled_from(["system", "user", "assistant", "tool"]),
    _text,
    st.lists(_calls, max_size=2).map(tuple),
    _text,
)
_prompts = st.builds(
    Prompt,
    st.lists(_messages, max_size=6).map(tuple),
    st.lists(st.builds(ToolDefinition, _text, _text, _text), max_size=2).map(tuple),
    st.builds(
        SamplingParams,
        st.floats(0, 2),
        st.floats(0, 1),
        st.integers(1, 9000),
        st.none() | st.integers(0, 2**31),
    ),
)


def _document(prompt: Prompt) -> dict:
    return {
        "messages": [
            {
                "role": m.role,
                "content": m.content,
                "tool_calls": [
                    {"call_id": c.call_id, "name": c.name, "arguments_json": c.arguments_json}
                    for c in m.tool_calls
                ],
                "tool_call_id": m.tool_call_id,
            }
            for m in prompt.messages
        ],
        "tools": [
            {
                "name": t.name,
                "description": t.description,
                "parameters_json_schema": t.parameters_json_schema,
            }
            for t in prompt.tools
        ],
        "sampling": {
            "temperature": prompt.sampling.temperature,
            "top_p": prompt.sampling.top_p,
            "max_tokens": prompt.sampling.max_tokens,
            "seed": prompt.sampling.seed,
        },
    }


@given(_prompts)
def test_the_canonical_json_is_the_sorted_compact_dump_of_the_document(prompt: Prompt) -> None:
    spelled = json.dumps(
        _document(prompt), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert prompt.canonical_json() == spelled
    assert prompt.digest == "sha256:" + hashlib.sha256(spelled.encode()).hexdigest()


@given(_prompts)
def test_each_prefix_digest_is_the_digest_of_that_prefix_prompt(prompt: Prompt) -> None:
    prefixes = [
        Prompt(prompt.messages[:k], prompt.tools, prompt.sampling).digest
        for k in range(len(prompt.messages) + 1)
    ]
    assert prompt.prefix_digests() == prefixes
