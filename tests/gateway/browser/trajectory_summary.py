"""What the fake gateway derives from a trajectory's log: its list row, sessions, files.

Deliberately simple stand-ins for the real gateway's read models; the drift signal here
is just "the last two actions failed", enough to show the flag in the UI.
"""

from __future__ import annotations

import json
from typing import Any

FILE_TOOLS = ("create_file", "edit_file")
END_STATUS = {"END_REASON_ERROR": "failed", "END_REASON_CANCELLED": "cancelled"}


def _arguments(action: dict[str, Any]) -> dict[str, Any]:
    try:
        parsed = json.loads(action.get("tool_call", {}).get("arguments_json") or "{}")
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def summarize(trajectory_id: str, events: list[dict[str, Any]], watchers: list[str]):
    """The list row of one trajectory."""
    started = next((e["trajectory_started"] for e in events if "trajectory_started" in e), {})
    ended = next((e["trajectory_ended"] for e in events if "trajectory_ended" in e), None)
    actions = [e["action_proposed"] for e in events if "action_proposed" in e]
    observations = [e["observation_recorded"] for e in events if "observation_recorded" in e]
    failing = len(observations) >= 2 and not any(o.get("success") for o in observations[-2:])
    return {
        "trajectory_id": trajectory_id,
        "task_id": started.get("task_id", ""),
        "status": "running" if ended is None else END_STATUS.get(ended.get("reason"), "finished"),
        "steps": max((a.get("step_index", 0) + 1 for a in actions), default=0),
        "guidance_count": sum("guidance_submitted" in e for e in events),
        "started_at": events[0].get("occurred_at"),
        "last_activity_at": events[-1].get("occurred_at"),
        "final_score": None if ended is None else ended.get("final_score"),
        "needs_attention": failing,
        "attention_reasons": ["the last 2 actions failed"] if failing else [],
        "watchers": watchers,
    }


def _actions_by_id(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["event_id"]: e["action_proposed"] for e in events if "action_proposed" in e}


def sessions(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest command and output of every session the agent used."""
    actions = _actions_by_id(events)
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        observation = event.get("observation_recorded")
        action = actions.get((observation or {}).get("action_id", ""))
        arguments = _arguments(action) if action else {}
        if "session" not in arguments:
            continue
        details = json.loads(observation.get("observation_json") or "{}")
        latest[arguments["session"]] = {
            "session": arguments["session"],
            "last_command": arguments.get("command", ""),
            "output": details.get("output", ""),
            "idle": False,
        }
    return list(latest.values())


def file_changes(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Successful file edits in log order."""
    actions = _actions_by_id(events)
    changes = []
    for event in events:
        observation = event.get("observation_recorded")
        action = actions.get((observation or {}).get("action_id", ""))
        tool = (action or {}).get("tool_call", {}).get("name")
        if observation and observation.get("success") and tool in FILE_TOOLS:
            step = action.get("step_index", 0)
            changes.append({"step": step, "path": _arguments(action).get("path", ""), "tool": tool})
    return changes
