"""Scripted policies: the tool calls a scripted trajectory replays travel in its start event."""

from __future__ import annotations

import json

from apollo.v1 import events_pb2 as pb
from services.llm.scripted import ScriptedCall


class BadScript(ValueError):
    """A scripted trajectory whose scripted calls are malformed."""


def script_of(started: pb.TrajectoryStarted) -> list[ScriptedCall]:
    """The calls a scripted trajectory replays (none: it finishes at once)."""
    calls = []
    for call in started.scripted_calls:
        try:
            arguments = json.loads(call.arguments_json)
        except json.JSONDecodeError as error:
            raise BadScript(f"scripted call {call.name!r} has bad arguments: {error}") from error
        if not isinstance(arguments, dict):
            raise BadScript(f"scripted call {call.name!r} needs a JSON object as arguments")
        calls.append(ScriptedCall(call.name, arguments))
    return calls
