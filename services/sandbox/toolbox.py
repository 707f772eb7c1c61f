"""Running one validated tool call against a trajectory's runtime."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import ValidationError

from services.sandbox import file_tools
from services.sandbox.backend import SandboxUnavailable
from services.sandbox.grading import GradingFailed, grade
from services.sandbox.runtime import TrajectoryRuntime
from services.sandbox.session_tools import SESSION_TOOLS, SessionToolError
from services.sandbox.sessions import SessionLimitReached, UnknownSession
from services.sandbox.workspace import PathOutsideWorkspace, UnusablePath
from services.tasks import tool_args as a
from services.trajectory.state import FINISH_TOOL


class ToolError(ValueError):
    """A tool call that could not be done; its message goes to the agent."""


@dataclass
class ToolOutcome:
    """The observation fields of a tool call and what it means for the trajectory."""

    success: bool
    fields: dict
    error_message: str = ""
    eval_score: float | None = None
    finished: bool = False

    def observation(self) -> dict:
        """The observation as the tool message's JSON object."""
        message = self.fields.pop("message", "")
        return {
            "success": self.success,
            "message": message,
            "error_message": self.error_message,
            **self.fields,
        }


async def _think(rt: TrajectoryRuntime, args: a.Think) -> dict:
    if rt.last_tool == "think":
        raise ToolError("think was used in the previous step; act before thinking again")
    return {"message": "thought noted"}


async def _sleep(rt: TrajectoryRuntime, args: a.Sleep) -> dict:
    seconds = min(args.seconds, rt.seconds_left)
    started = time.monotonic()
    if not rt.pending_guidance():
        rt.guidance_arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(rt.guidance_arrived.wait(), seconds)
    slept = time.monotonic() - started
    woken = slept < seconds - 0.05
    why = "woken early: a message from the user is waiting" if woken else "done"
    return {"message": f"slept {slept:.0f} s ({why})", "slept_seconds": round(slept, 3)}


async def _eval(rt: TrajectoryRuntime, args: a.Eval) -> dict:
    if rt.evals_left <= 0:
        raise ToolError(f"no evaluations left (all {rt.budgets.max_evals} used)")
    rt.evals_used += 1
    result = await grade(rt.instance, rt.workspace.root)
    rt.best_score = max(rt.best_score or 0.0, result.score)
    return {
        "message": f"score {result.score:.1f} / 100; {rt.evals_left} evaluations left",
        "score": result.score,
        "evals_left": rt.evals_left,
        "details": result.details,
    }


def _files(function: Callable[..., dict]) -> Callable[..., Awaitable[dict]]:
    async def run(rt: TrajectoryRuntime, args: a.ToolArgs) -> dict:
        return await asyncio.to_thread(function, rt.workspace, **args.model_dump())

    return run


_TOOLS: dict[str, Callable[[TrajectoryRuntime, a.ToolArgs], Awaitable[dict]]] = {
    **SESSION_TOOLS,
    "open_file": _files(file_tools.open_file),
    "create_file": _files(file_tools.create_file),
    "edit_file": _files(file_tools.edit_file),
    "search_dir": _files(file_tools.search_dir),
    "search_file": _files(file_tools.search_file),
    "find_file": _files(file_tools.find_file),
    "list_files": _files(file_tools.list_files),
    "think": _think,
    "sleep": _sleep,
    "eval": _eval,
}

_AGENT_ERRORS = (
    ToolError,
    SessionToolError,
    UnknownSession,
    SessionLimitReached,
    PathOutsideWorkspace,
    UnusablePath,
    file_tools.FileToolError,
    UnicodeError,
    # The file tools' errors are the agent's (missing file, name too long, disk quota).
    OSError,
)


def enabled_tools(rt: TrajectoryRuntime) -> list[str]:
    """The tools this trajectory's task allows."""
    return rt.pack.manifest.tools or list(a.ARGS_BY_TOOL)


async def run_tool(rt: TrajectoryRuntime, name: str, arguments_json: str) -> ToolOutcome:
    """Validate and run one call; every agent mistake becomes an error outcome."""
    if name not in enabled_tools(rt):
        known = ", ".join(enabled_tools(rt))
        return ToolOutcome(False, {}, f"unknown tool {name!r}; check your output format ({known})")
    try:
        args = a.ARGS_BY_TOOL[name].model_validate_json(arguments_json or "{}")
    except ValidationError as error:
        detail = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in error.errors()
        )
        return ToolOutcome(
            False, {}, f"bad arguments for {name}: {detail}; check your output format"
        )
    if name == FINISH_TOOL:
        return ToolOutcome(
            True, {"message": "finishing; running the final evaluation"}, finished=True
        )
    try:
        fields = await _TOOLS[name](rt, args)
    except _AGENT_ERRORS as error:
        return ToolOutcome(False, {}, str(error))
    except (SandboxUnavailable, GradingFailed) as error:
        return ToolOutcome(False, {}, f"the environment failed: {error}")
    finally:
        rt.last_tool = name
    success = fields.pop("success", True)
    error_message = fields.pop("error_message", "")
    score = fields.get("score") if name == "eval" else None
    return ToolOutcome(success, fields, error_message, eval_score=score)
