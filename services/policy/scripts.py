"""Scripted policies: the tool calls a scripted trajectory replays travel in its start event."""

from __future__ import annotations

import json

from apollo.v1 import events_pb2 as pb
from services.llm.scripted import ScriptedCall

# TrajectoryStarted.labels key whose value is the script as JSON [{"tool", "arguments"}],
# so a replay of the log alone can run it again.
SCRIPT_LABEL = "scripted_calls"


class BadScript(ValueError):
    """A scripted trajectory whose script label is missing or malformed."""


def script_label(calls: list[tuple[str, dict]]) -> str:
    """The label value for a script of (tool, arguments) calls."""
    steps = [{"tool": name, "arguments": arguments} for name, arguments in calls]
    return json.dumps(steps, sort_keys=True, separators=(",", ":"))


def script_of(started: pb.TrajectoryStarted) -> list[ScriptedCall]:
    """The calls a scripted trajectory replays."""
    raw = started.labels.get(SCRIPT_LABEL)
    if raw is None:
        raise BadScript(f"a scripted trajectory needs the {SCRIPT_LABEL!r} label")
    try:
        steps = json.loads(raw)
        return [ScriptedCall(step["tool"], step.get("arguments", {})) for step in steps]
    except (json.JSONDecodeError, TypeError, KeyError) as error:
        raise BadScript(f"label {SCRIPT_LABEL!r} is not a list of tool calls: {error}") from error
