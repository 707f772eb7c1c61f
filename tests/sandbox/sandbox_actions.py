"""ActionProposed events for sandbox tests (no real prompt behind them)."""

from __future__ import annotations

import json

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event


def action(trajectory_id: str, step: int, tool: str, **arguments) -> pb.Event:
    """An ActionProposed event calling `tool`."""
    body = pb.ActionProposed(
        step_index=step,
        tool_call=pb.ToolCall(call_id=f"c{step}", name=tool, arguments_json=json.dumps(arguments)),
        # Required on the bus; these actions come from no real prompt.
        prompt_digest="sha256:test",
    )
    return new_event(body, trajectory_id=trajectory_id, service="test")
