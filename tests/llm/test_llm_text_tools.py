"""Text tool calling: the documented format parses, anything else fails cleanly, never raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.llm.port import ChatMessage, ParseFailure, ToolCallRequest, ToolDefinition
from services.llm.text_tools import (
    parse_tool_calls,
    render_text_conversation,
    render_tool_call,
    render_tool_instructions,
)

pytestmark = pytest.mark.timeout(60)

RUN = ToolDefinition(
    "run_command",
    "Run a shell command in a session.",
    json.dumps({"type": "object", "properties": {"command": {"type": "string"}}}),
)


def only_call(text: str) -> ToolCallRequest:
    parsed = parse_tool_calls(text)
    assert isinstance(parsed, tuple), parsed
    assert len(parsed) == 1
    return parsed[0]


def test_the_documented_block_parses_with_canonical_arguments() -> None:
    call = only_call(
        'I will list the files.\n<tool_call>\n{"name": "run_command", '
        '"arguments": {"session": "main", "command": "ls -l"}}\n</tool_call>'
    )
    assert call.name == "run_command"
    assert call.arguments_json == '{"command":"ls -l","session":"main"}'
    assert call.call_id.startswith("call_")


@pytest.mark.parametrize(
    "text",
    [
        # unterminated last block (generation stopped early)
        '<tool_call>{"name": "run_command", "arguments": {"command": "ls"}}',
        # a ```json fence instead of tags
        'Sure:\n```json\n{"name": "run_command", "arguments": {"command": "ls"}}\n```',
        # bare object in prose, "tool" instead of "name", arguments as a JSON string
        'Calling {"tool": "run_command", "arguments": "{\\"command\\": \\"ls\\"}"} now.',
        # "args" spelling and trailing prose
        '{"name": "run_command", "args": {"command": "ls"}} and then I wait.',
    ],
)
def test_common_variants_are_accepted(text: str) -> None:
    call = only_call(text)
    assert (call.name, json.loads(call.arguments_json)) == ("run_command", {"command": "ls"})


def test_a_call_without_arguments_gets_an_empty_object() -> None:
    assert only_call('<tool_call>{"name": "list_sessions"}</tool_call>').arguments_json == "{}"


def test_every_call_is_returned_so_the_caller_can_reject_several() -> None:
    parsed = parse_tool_calls(
        '<tool_call>{"name": "a", "arguments": {}}</tool_call>'
        '<tool_call>{"name": "b", "arguments": {}}</tool_call>'
    )
    assert isinstance(parsed, tuple)
    assert [call.name for call in parsed] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "no_tool_call"),
        ("I think we should list the files first.", "no_tool_call"),
        ("```bash\nls -l\n```", "no_tool_call"),
        ('{"command": "ls"}', "no_tool_call"),
        ("{{{{", "no_tool_call"),
        ("<tool_call></tool_call>", "bad_arguments"),
        ("<tool_call>run_command(ls)</tool_call>", "bad_arguments"),
        (
            '<tool_call>{"name": "run_command", "arguments": {"command": </tool_call>',
            "bad_arguments",
        ),
        ("<tool_call>{'name': 'run_command'}</tool_call>", "bad_arguments"),
        ('<tool_call>["run_command"]</tool_call>', "bad_arguments"),
        ('<tool_call>{"arguments": {}}</tool_call>', "bad_arguments"),
        ('<tool_call>{"name": 7, "arguments": {}}</tool_call>', "bad_arguments"),
        ('<tool_call>{"name": "  ", "arguments": {}}</tool_call>', "bad_arguments"),
        ('<tool_call>{"name": "x", "arguments": [1, 2]}</tool_call>', "bad_arguments"),
        ('<tool_call>{"name": "x", "arguments": "not json"}</tool_call>', "bad_arguments"),
        ('<tool_call>{"name": "x", "arguments": "[1]"}</tool_call>', "bad_arguments"),
    ],
)
def test_malformed_output_is_a_parse_failure(text: str, kind: str) -> None:
    parsed = parse_tool_calls(text)
    assert isinstance(parsed, ParseFailure)
    assert parsed.kind == kind
    assert parsed.message
    assert parsed.to_proto().kind == kind


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('{}[]":,<>/ _abcnmetool\\\n'), max_size=120) | st.text())
def test_no_text_makes_the_parser_raise(text: str) -> None:
    parsed = parse_tool_calls(text)
    assert isinstance(parsed, tuple | ParseFailure)


@given(
    st.text(min_size=1, alphabet=st.characters(categories=["L", "N"])),
    st.dictionaries(st.text(max_size=8), st.integers() | st.text() | st.booleans(), max_size=4),
)
def test_a_rendered_call_parses_back_to_itself(name: str, arguments: dict) -> None:
    original = ToolCallRequest("call_1", name, json.dumps(arguments, sort_keys=True))
    parsed = only_call("Thinking first.\n" + render_tool_call(original))
    assert parsed.name == name
    assert json.loads(parsed.arguments_json) == arguments


def test_instructions_list_every_tool_with_its_schema_and_the_format() -> None:
    text = render_tool_instructions([RUN])
    assert '"name":"run_command"' in text
    assert '"parameters":{"properties":{"command":{"type":"string"}},"type":"object"}' in text
    assert "<tool_call>" in text
    assert "</tool_call>" in text


def test_the_conversation_carries_tools_in_the_system_prompt_and_calls_as_text() -> None:
    call = ToolCallRequest("call_1", "run_command", '{"command":"ls"}')
    rendered = render_text_conversation(
        [
            ChatMessage("system", "You are an agent."),
            ChatMessage("user", "List files."),
            ChatMessage("assistant", "", tool_calls=(call,)),
            ChatMessage("tool", '{"success": true}', tool_call_id="call_1"),
        ],
        [RUN],
    )
    assert [m["role"] for m in rendered] == ["system", "user", "assistant", "tool"]
    assert rendered[0]["content"].startswith("You are an agent.\n\n# Tools")
    assert only_call(rendered[2]["content"]).arguments_json == call.arguments_json
    assert rendered[3]["content"] == '{"success": true}'


def test_a_system_message_is_added_when_the_conversation_has_none() -> None:
    rendered = render_text_conversation([ChatMessage("user", "hi")], [RUN])
    assert rendered[0]["role"] == "system"
    assert "run_command" in rendered[0]["content"]
    assert render_text_conversation([ChatMessage("user", "hi")], []) == [
        {"role": "user", "content": "hi"}
    ]
