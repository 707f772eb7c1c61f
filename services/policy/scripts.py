"""Scripted policies: the tool calls a scripted trajectory replays travel in its start event."""

from __future__ import annotations

import json

from apollo.v1 import events_pb2 as pb
from services.llm.scripted import ScriptedCall
from services.tasks.scripts import SCRIPT_LABEL


class BadScript(ValueError):
    """A scripted trajectory whose script label is missing or malformed."""


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
