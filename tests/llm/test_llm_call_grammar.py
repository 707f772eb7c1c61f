"""The call grammar that holds the local model to one valid call of an offered tool."""

from __future__ import annotations

import json

import llguidance
import pytest
import torch

from services.llm import Prompt, SamplingParams
from services.llm.call_grammar import CallConstraint, UnusableToolSchema, call_grammar
from services.llm.local import LocalBackend
from services.llm.local_model import LocalModel
from services.llm.port import ChatMessage, ToolCallRequest, ToolDefinition
from services.llm.text_tools import render_tool_call
from services.tasks.tool_args import ARGS_BY_TOOL, tool_specs

BUILTIN_TOOLS = tuple(ToolDefinition.from_proto(spec) for spec in tool_specs())


def test_every_builtin_tool_schema_makes_a_grammar() -> None:
    assert call_grammar(BUILTIN_TOOLS)


def test_a_schema_no_grammar_can_follow_is_refused_with_the_reason() -> None:
    broken = ToolDefinition(
        "odd", "", json.dumps({"type": "object", "properties": {"x": {"type": "strin"}}})
    )
    with pytest.raises(UnusableToolSchema, match="Invalid type: strin"):
        call_grammar((broken,))


def consumes(loaded: LocalModel, answer: str) -> bool:
    """Whether the grammar accepts `answer` as a complete call."""
    matcher = llguidance.LLMatcher(loaded.grammar_tokenizer, call_grammar(BUILTIN_TOOLS))
    tokens = loaded.tokenizer(answer, add_special_tokens=False)["input_ids"]
    return matcher.try_consume_tokens(tokens) == len(tokens) and matcher.is_accepting()


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_a_valid_call_as_rendered_is_accepted(loaded: LocalModel) -> None:
    for name, arguments in [
        ("run_command", {"command": "ls -la"}),
        # Properties in schema order: tool_specs sorts them, as the prompt lists them.
        ("edit_file", {"content": "x = 1\n", "end": 3, "path": "a.py", "start": 2}),
        ("finish", {}),
    ]:
        call = ToolCallRequest("c1", name, json.dumps(arguments))
        assert consumes(loaded, render_tool_call(call)), name


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_calls_the_schemas_refuse_are_not_accepted(loaded: LocalModel) -> None:
    for answer in [
        '<tool_call>\n{"name": "TOOL_NAME", "arguments": {}}\n</tool_call>',  # no such tool
        '<tool_call>\n{"name": "run_command", "arguments": {}}\n</tool_call>',  # missing command
        '<tool_call>\n{"name": "run_command", "arguments": {"cmd": "ls"}}\n</tool_call>',
        '<tool_call>\n{"name": "sleep", "arguments": {"seconds": "ten"}}\n</tool_call>',
        'Sure! <tool_call>\n{"name": "finish", "arguments": {}}\n</tool_call>',  # prose first
    ]:
        assert not consumes(loaded, answer), answer


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_the_constraint_masks_from_the_prompt_on_and_ends_after_the_call(
    loaded: LocalModel,
) -> None:
    prompt = loaded.tokenizer("Prompt.")["input_ids"]
    vocabulary = loaded.grammar_tokenizer.vocab_size
    constraint = CallConstraint(loaded.grammar_tokenizer, call_grammar(BUILTIN_TOOLS), len(prompt))
    first = constraint(torch.tensor([prompt]), torch.zeros(1, vocabulary))
    allowed = torch.isfinite(first[0]).nonzero().flatten().tolist()
    assert 0 < len(allowed) < 10
    assert all("<tool_call>".startswith(loaded.tokenizer.decode([t])) for t in allowed)
    call = render_tool_call(ToolCallRequest("c1", "finish", "{}"))
    whole = prompt + loaded.tokenizer(call, add_special_tokens=False)["input_ids"]
    last = constraint(torch.tensor([whole]), torch.zeros(1, vocabulary))
    assert torch.isfinite(last[0]).nonzero().flatten().tolist() == [loaded.tokenizer.eos_token_id]


@pytest.mark.integration
@pytest.mark.timeout(600)
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_sampled_answers_are_one_call_the_sandbox_accepts(
    local_backend: LocalBackend, loaded: LocalModel, seed: int
) -> None:
    messages = (
        ChatMessage("system", "You are an agent in a Linux workspace. Call one tool per turn."),
        ChatMessage("user", "Find the failing test in the workspace and fix it."),
    )
    sampling = SamplingParams(temperature=1.0, max_tokens=160, seed=seed)
    reply = await local_backend.complete(Prompt(messages, BUILTIN_TOOLS, sampling))
    matcher = llguidance.LLMatcher(loaded.grammar_tokenizer, call_grammar(BUILTIN_TOOLS))
    tokens = loaded.tokenizer(reply.text, add_special_tokens=False)["input_ids"]
    assert matcher.consume_tokens(tokens), reply.text  # never a token outside the grammar
    if reply.tool_calls:
        [call] = reply.tool_calls
        ARGS_BY_TOOL[call.name].model_validate(json.loads(call.arguments_json))
    else:  # only a string that ran past the token cap leaves the call open
        assert reply.usage.completion_tokens == sampling.max_tokens, reply.text
