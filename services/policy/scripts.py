"""Scripted policies: the tool calls a scripted trajectory replays travel in its start event."""

from __future__ import annotations

from apollo.v1 import events_pb2 as pb
from services.llm.scripted import ScriptedCall
from services.tasks.script import BadScript, calls_of

__all__ = ["BadScript", "script_of"]


def script_of(started: pb.TrajectoryStarted) -> list[ScriptedCall]:
    """The calls a scripted trajectory replays (none: it finishes at once)."""
    return [ScriptedCall(call.tool, call.arguments) for call in calls_of(started)]
