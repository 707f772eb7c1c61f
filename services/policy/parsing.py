"""Turning a model reply into exactly one tool call, or a null action that says why not."""

from __future__ import annotations

import json

from apollo.v1 import events_pb2 as pb
from services.llm.port import ModelReply, ToolCallRequest, new_call_id
from services.trajectory.canonical import canonical_json


def parse_reply(reply: ModelReply, tools: list[pb.ToolSpec]) -> pb.ToolCall | pb.ParseError:
    """The single valid call of `reply`, or the ParseError of a null action."""
    if reply.parse_failure is not None:
        return reply.parse_failure.to_proto()
    if not reply.tool_calls:
        return pb.ParseError(kind="no_tool_call", message="the answer holds no tool call")
    if len(reply.tool_calls) > 1:
        names = ", ".join(call.name for call in reply.tool_calls)
        return pb.ParseError(
            kind="multiple_tool_calls",
            message=f"the answer holds {len(reply.tool_calls)} tool calls ({names}); make one",
        )
    call = reply.tool_calls[0]
    schemas = {tool.name: tool.parameters_json_schema for tool in tools}
    if call.name not in schemas:
        return pb.ParseError(
            kind="unknown_tool", message=f"there is no tool {call.name!r}; use one of the list"
        )
    return _checked_call(call, schemas[call.name])


def _checked_call(call: ToolCallRequest, schema_json: str) -> pb.ToolCall | pb.ParseError:
    try:
        arguments = json.loads(call.arguments_json or "{}")
    except json.JSONDecodeError as error:
        return pb.ParseError(kind="bad_arguments", message=f"arguments are not JSON: {error}")
    if not isinstance(arguments, dict):
        return pb.ParseError(kind="bad_arguments", message="arguments must be a JSON object")
    problem = _schema_problem(arguments, schema_json)
    if problem:
        return pb.ParseError(kind="bad_arguments", message=f"{call.name}: {problem}")
    return pb.ToolCall(
        call_id=call.call_id or new_call_id(),
        name=call.name,
        arguments_json=canonical_json(arguments),
    )


def _schema_problem(arguments: dict, schema_json: str) -> str:
    """The first missing required or unknown argument; the sandbox checks the values."""
    try:
        schema = json.loads(schema_json or "{}")
    except json.JSONDecodeError:
        return ""
    properties = schema.get("properties", {})
    missing = [name for name in schema.get("required", []) if name not in arguments]
    if missing:
        return f"missing required arguments {missing}"
    if schema.get("additionalProperties") is False:
        unknown = sorted(set(arguments) - set(properties))
        if unknown:
            return f"unknown arguments {unknown}"
    return ""
