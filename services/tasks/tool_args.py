"""The tools' argument schemas (what the model sees in TrajectoryStarted.tools)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from apollo.v1 import events_pb2 as pb
from services.trajectory.canonical import canonical_json

BLOCKING_LIMIT_S = 10.0
MAX_SLEEP_S = 1800
MAX_THINK_CHARS = 200


class ToolArgs(BaseModel):
    """Arguments of one tool: unknown fields are an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CreateSession(ToolArgs):
    """Open a new shell session in the workspace; returns its name."""


class ListSessions(ToolArgs):
    """List open sessions with their state."""


class RunCommand(ToolArgs):
    """Run a shell command in a session (one command per session at a time)."""

    command: str = Field(min_length=1, description="Shell command, run by bash in /workspace")
    session: str | None = Field(default=None, description="Session name; the first one if absent")
    wait_for_completion: bool = Field(
        default=True,
        description="Wait (at most 10 s, then the command is killed); false runs it in the "
        "background: poll with get_session_output / check_session_idle",
    )
    timeout: float = Field(
        default=BLOCKING_LIMIT_S, gt=0, le=BLOCKING_LIMIT_S, description="Seconds to wait"
    )


class InputInSession(ToolArgs):
    """Type a line into the command running in a session."""

    session: str
    text: str


class SessionName(ToolArgs):
    """A session to act on."""

    session: str


class OpenFile(ToolArgs):
    """Show numbered lines of a file around a line."""

    path: str
    line: int = Field(default=1, ge=1, description="Line to center on (1-based)")
    context: int = Field(default=50, ge=0, le=500, description="Lines shown before and after")


class CreateFile(ToolArgs):
    """Create a new file (fails if it exists)."""

    path: str
    content: str = ""


class EditFile(ToolArgs):
    """Replace lines start..end (1-based, inclusive) with content; end = start - 1 inserts."""

    path: str
    start: int = Field(ge=1)
    end: int = Field(ge=0)
    content: str


class SearchDir(ToolArgs):
    """Find files under a directory that contain a string."""

    term: str = Field(min_length=1)
    directory: str = "."


class SearchFile(ToolArgs):
    """Find the lines of a file that contain a string."""

    term: str = Field(min_length=1)
    path: str


class FindFile(ToolArgs):
    """Find files whose name matches a glob, e.g. '*.py'."""

    name: str = Field(min_length=1)
    directory: str = "."


class ListFiles(ToolArgs):
    """List the files under a directory."""

    path: str = "."
    depth: int = Field(default=2, ge=1, le=6)


class Think(ToolArgs):
    """Write down a short thought (at most 200 characters; not twice in a row)."""

    thought: str = Field(min_length=1, max_length=MAX_THINK_CHARS)


class Sleep(ToolArgs):
    """Wait for background work (at most 1800 s); a human's message wakes you early."""

    seconds: float = Field(gt=0, le=MAX_SLEEP_S)


class Eval(ToolArgs):
    """Grade the current workspace; returns the score (0-100) and the evaluations left."""


class Finish(ToolArgs):
    """End the task; a final evaluation grades the workspace."""

    summary: str = Field(default="", max_length=4000)


ARGS_BY_TOOL: dict[str, type[ToolArgs]] = {
    "create_session": CreateSession,
    "list_sessions": ListSessions,
    "run_command": RunCommand,
    "input_in_session": InputInSession,
    "get_session_output": SessionName,
    "check_session_idle": SessionName,
    "kill_session_processes": SessionName,
    "close_session": SessionName,
    "open_file": OpenFile,
    "create_file": CreateFile,
    "edit_file": EditFile,
    "search_dir": SearchDir,
    "search_file": SearchFile,
    "find_file": FindFile,
    "list_files": ListFiles,
    "think": Think,
    "sleep": Sleep,
    "eval": Eval,
    "finish": Finish,
}

_DESCRIPTIONS = {
    "get_session_output": "The newest 30,000 characters a session printed.",
    "check_session_idle": "Whether a session's command has finished, with its exit code.",
    "kill_session_processes": "Kill everything running in a session; the session restarts.",
    "close_session": "Kill a session's processes and close it.",
}


def tool_specs(enabled: list[str] | None = None) -> list[pb.ToolSpec]:
    """The ToolSpecs of the enabled tools (all when None), in prompt order."""
    names = enabled if enabled is not None else list(ARGS_BY_TOOL)
    specs = []
    for name in names:
        model = ARGS_BY_TOOL[name]
        schema = model.model_json_schema()
        specs.append(
            pb.ToolSpec(
                name=name,
                description=_DESCRIPTIONS.get(name, (model.__doc__ or "").strip()),
                parameters_json_schema=canonical_json(schema),
            )
        )
    return specs
