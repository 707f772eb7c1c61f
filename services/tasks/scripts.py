"""The script label: how a scripted trajectory's tool calls travel in its start event."""

from __future__ import annotations

import json

# TrajectoryStarted.labels key whose value is the script as JSON [{"tool", "arguments"}],
# so a replay of the log alone can run it again.
SCRIPT_LABEL = "scripted_calls"


def script_label(calls: list[tuple[str, dict]]) -> str:
    """The label value for a script of (tool, arguments) calls."""
    steps = [{"tool": name, "arguments": arguments} for name, arguments in calls]
    return json.dumps(steps, sort_keys=True, separators=(",", ":"))
