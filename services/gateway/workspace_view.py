"""The terminal and file-change panels, derived from a trajectory's steps (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from services.trajectory import Step, Trajectory

FILE_CHANGING_TOOLS = frozenset({"create_file", "edit_file"})


@dataclass(frozen=True)
class SessionView:
    """The latest known state of one sandbox session."""

    session: str
    last_command: str | None
    output: str
    idle: bool

    def as_json(self) -> dict:
        """A JSON-ready dict."""
        return {
            "session": self.session,
            "last_command": self.last_command,
            "output": self.output,
            "idle": self.idle,
        }


@dataclass(frozen=True)
class FileChange:
    """A file the agent created or edited successfully at a step."""

    step: int
    path: str
    tool: str

    def as_json(self) -> dict:
        """A JSON-ready dict."""
        return {"step": self.step, "path": self.path, "tool": self.tool}


def _json_object(text: str) -> dict:
    # Observations and arguments are data from the agent and the sandbox: never trust shape.
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def arguments(step: Step) -> dict:
    """The tool call's arguments ({} for a null action or unparseable JSON)."""
    proposed = step.action.action_proposed
    return _json_object(proposed.tool_call.arguments_json) if proposed.HasField("tool_call") else {}


def sessions(state: Trajectory) -> list[SessionView]:
    """Every open session with its latest command and output, by name."""
    views: dict[str, SessionView] = {}
    for step in state.steps:
        if step.observation is None:
            continue
        seen = _json_object(step.observation.observation_recorded.observation_json)
        # Observations name their session; older logs only have the call's argument.
        name = seen.get("session", arguments(step).get("session"))
        if step.tool_name == "close_session":
            views.pop(str(arguments(step).get("session", "")), None)
            continue
        if not isinstance(name, str):
            continue
        before = views.get(name, SessionView(name, None, "", True))
        command = arguments(step).get("command") if step.tool_name == "run_command" else None
        output = seen.get("output")
        idle = seen.get("idle")
        if idle is None and step.tool_name == "run_command":
            # A run that reports an exit code has finished; one started in the background has not.
            idle = seen.get("exit_code") is not None
        views[name] = SessionView(
            session=name,
            last_command=str(command or seen.get("last_command") or before.last_command or "")
            or None,
            output=output if isinstance(output, str) else before.output,
            idle=bool(idle) if idle is not None else before.idle,
        )
    return sorted(views.values(), key=lambda v: v.session)


def file_changes(state: Trajectory) -> list[FileChange]:
    """Successful file creations and edits, in step order."""
    changes = []
    for step in state.steps:
        observation = step.observation
        if step.tool_name not in FILE_CHANGING_TOOLS or observation is None:
            continue
        path = arguments(step).get("path")
        if observation.observation_recorded.success and isinstance(path, str):
            changes.append(FileChange(step.index, path, step.tool_name))
    return changes
