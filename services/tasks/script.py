"""The tool calls a trajectory's start event carries for a replaying policy (scripted, teacher)."""

from __future__ import annotations

import json

from apollo.v1 import events_pb2 as pb
from services.tasks.packs import ToolCallSpec


class BadScript(ValueError):
    """A trajectory whose scripted calls (or simulated teacher's labels) are malformed."""


def calls_of(started: pb.TrajectoryStarted) -> list[ToolCallSpec]:
    """The calls in `started.scripted_calls`, in order (raises BadScript)."""
    calls = []
    for call in started.scripted_calls:
        try:
            arguments = json.loads(call.arguments_json)
        except json.JSONDecodeError as error:
            raise BadScript(f"scripted call {call.name!r} has bad arguments: {error}") from error
        if not isinstance(arguments, dict):
            raise BadScript(f"scripted call {call.name!r} needs a JSON object as arguments")
        calls.append(ToolCallSpec(tool=call.name, arguments=arguments))
    return calls
