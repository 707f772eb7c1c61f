"""Tool calling for text-only models: the tools go into the system prompt, calls come back as text.

The format (the Hermes/Qwen convention, so trained checkpoints can be served by vLLM/SGLang
with their `hermes` tool parser) is one block per call:

    <tool_call>
    {"name": "TOOL_NAME", "arguments": {...}}
    </tool_call>

Prose around the block is allowed. Parsing is tolerant: without tags it takes any JSON
object with "name" (or "tool") and "arguments" (or "args", "parameters"), e.g. in a ```json
fence; it accepts an unterminated last <tool_call> and arguments given as a JSON string.
It never raises: text without a usable call yields a ParseFailure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from services.llm.port import (
    ChatMessage,
    ParseFailure,
    ToolCallRequest,
    ToolDefinition,
    new_call_id,
)
from services.trajectory.canonical import canonical_json

CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"
_TAGGED = re.compile(rf"{re.escape(CALL_OPEN)}(.*?)(?:{re.escape(CALL_CLOSE)}|\Z)", re.DOTALL)
_NAME_KEYS = ("name", "tool")
_ARGUMENT_KEYS = ("arguments", "args", "parameters")


def render_tool_instructions(tools: Sequence[ToolDefinition]) -> str:
    """The system-prompt section that lists the tools and the answer format."""
    listed = "\n".join(
        canonical_json(
            {
                "name": tool.name,
                "description": tool.description,
                "parameters": json.loads(tool.parameters_json_schema or "{}"),
            }
        )
        for tool in tools
    )
    return (
        "# Tools\n\n"
        "You may call one of these tools; each is given as a JSON object with its "
        "JSON Schema parameters:\n"
        f"<tools>\n{listed}\n</tools>\n\n"
        "To call a tool, end your answer with exactly one block:\n"
        "<tool_call>\n"
        '{"name": "TOOL_NAME", "arguments": {"ARGUMENT": "VALUE"}}\n'
        "</tool_call>"
    )


def render_tool_call(call: ToolCallRequest) -> str:
    """One call in the answer format, as a trained model should write it."""
    arguments = json.loads(call.arguments_json or "{}")
    body = json.dumps({"name": call.name, "arguments": arguments}, ensure_ascii=False)
    return f"{CALL_OPEN}\n{body}\n{CALL_CLOSE}"


def render_text_conversation(
    messages: Sequence[ChatMessage], tools: Sequence[ToolDefinition]
) -> list[dict[str, str]]:
    """Role/content dicts for a chat template: tools in the system prompt, calls as text."""
    rendered = [{"role": message.role, "content": _message_text(message)} for message in messages]
    if not tools:
        return rendered
    instructions = render_tool_instructions(tools)
    if rendered and rendered[0]["role"] == "system":
        rendered[0] = {"role": "system", "content": f"{rendered[0]['content']}\n\n{instructions}"}
    else:
        rendered.insert(0, {"role": "system", "content": instructions})
    return rendered


def _message_text(message: ChatMessage) -> str:
    blocks = [render_tool_call(call) for call in message.tool_calls]
    return "\n".join([message.content, *blocks] if message.content else blocks)


def parse_tool_calls(text: str) -> tuple[ToolCallRequest, ...] | ParseFailure:
    """Every tool call written in `text`, or why there is none."""
    # Tagged blocks are unmistakably meant as calls, so their defects are reported; without
    # tags, any JSON object with a name key counts (inside a ```json fence or in prose).
    tagged = [match.group(1) for match in _TAGGED.finditer(text)]
    objects = [_decode_first_object(block) for block in tagged] if tagged else _bare_objects(text)
    calls: list[ToolCallRequest] = []
    problems: list[str] = []
    for decoded in objects:
        call = _as_call(decoded)
        if isinstance(call, str):
            problems.append(call)
        else:
            calls.append(call)
    if calls:
        return tuple(calls)
    if problems:
        return ParseFailure("bad_arguments", "; ".join(problems))
    return ParseFailure(
        "no_tool_call",
        'no tool call found; end the answer with <tool_call>{"name": ..., '
        '"arguments": {...}}</tool_call>',
    )


def _decode_first_object(candidate: str) -> Any:
    """The first JSON object in a block, or an error string."""
    start = candidate.find("{")
    if start < 0:
        return "the tool call block holds no JSON object"
    try:
        value, _ = json.JSONDecoder().raw_decode(candidate, start)
    except json.JSONDecodeError as error:
        return f"the tool call block is not valid JSON ({error.msg} at char {error.pos})"
    return value


def _bare_objects(text: str) -> list[Any]:
    """JSON objects written straight into prose that look like calls (have a name key)."""
    decoder = json.JSONDecoder()
    found: list[Any] = []
    position = text.find("{")
    while position >= 0:
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            position = text.find("{", position + 1)
            continue
        if isinstance(value, dict) and any(key in value for key in _NAME_KEYS):
            found.append(value)
        position = text.find("{", end)
    return found


def _as_call(decoded: Any) -> ToolCallRequest | str:
    """A call from a decoded object, or an error string that says what is wrong."""
    if isinstance(decoded, str):
        return decoded
    if not isinstance(decoded, dict):
        return "the tool call is not a JSON object"
    name = next((decoded[key] for key in _NAME_KEYS if key in decoded), None)
    if not isinstance(name, str) or not name.strip():
        return 'the tool call has no "name" string'
    arguments = next((decoded[key] for key in _ARGUMENT_KEYS if key in decoded), {})
    if isinstance(arguments, str):
        # OpenAI-style models write arguments as a JSON string.
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            return f'the "arguments" of {name} are a string that is not JSON'
    if not isinstance(arguments, dict):
        return f'the "arguments" of {name} are not a JSON object'
    return ToolCallRequest(new_call_id(), name.strip(), canonical_json(arguments))
