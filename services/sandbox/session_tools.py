"""The session tools: commands in the foreground or background, polled by the agent."""

from __future__ import annotations

import asyncio
import contextlib

from services.sandbox.runtime import TrajectoryRuntime
from services.sandbox.sessions import Session, SessionBusy, SessionIdle
from services.tasks import tool_args as a

# ResearchGym shows the newest 30,000 characters of a session.
OUTPUT_TAIL_CHARS = 30_000


class SessionToolError(ValueError):
    """A session tool call that cannot be done as asked."""


def _state(session: Session) -> dict:
    running = session.current
    last = session.last
    return {
        "session": session.name,
        "idle": running is None,
        "running_command": running.command if running else None,
        "running_seconds": round(running.seconds, 1) if running else None,
        "last_command": last.command if last else None,
        "last_exit_code": last.exit_code if last else None,
    }


async def _create_session(rt: TrajectoryRuntime, args: a.CreateSession) -> dict:
    session = rt.sessions.create()
    return {"message": f"created session {session.name}", "session": session.name}


async def _list_sessions(rt: TrajectoryRuntime, args: a.ListSessions) -> dict:
    states = [_state(rt.sessions.get(name)) for name in rt.sessions.names()]
    return {"message": f"{len(states)} sessions open", "sessions": states}


async def _run_command(rt: TrajectoryRuntime, args: a.RunCommand) -> dict:
    session = rt.sessions.get_or_create_default(args.session)
    try:
        run, restarted = await session.start(args.command)
    except SessionBusy as error:
        raise SessionToolError(
            f"{error}; wait for it, use another session, or kill_session_processes"
        ) from None
    note = " (the session's shell was started fresh)" if restarted else ""
    if not args.wait_for_completion:
        return {
            "message": f"started in the background in {session.name}{note}; poll with "
            "get_session_output or check_session_idle",
            "session": session.name,
        }
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(run.done.wait(), args.timeout)
    output = run.output.text()
    if not run.done.is_set():
        await session.kill()
        return {
            "success": False,
            "error_message": f"the command did not finish within {args.timeout:g} s and was "
            "killed with every process of the session (run long jobs with "
            "wait_for_completion=false)",
            "session": session.name,
            "output": output,
            "exit_code": None,
        }
    if run.shell_died:
        return {
            "success": False,
            "error_message": "the session's shell exited during the command; "
            "the next command starts a fresh one",
            "session": session.name,
            "output": output,
            "exit_code": None,
        }
    return {
        "success": run.exit_code == 0,
        "message": f"exit code {run.exit_code}{note}",
        "error_message": "" if run.exit_code == 0 else f"the command exited with {run.exit_code}",
        "session": session.name,
        "output": output,
        "exit_code": run.exit_code,
    }


async def _input_in_session(rt: TrajectoryRuntime, args: a.InputInSession) -> dict:
    session = rt.sessions.get(args.session)
    try:
        await session.send_input(args.text)
    except SessionIdle as error:
        raise SessionToolError(f"{error}; use run_command to start one") from None
    return {"message": f"sent a line to {session.name}", "session": session.name}


async def _get_session_output(rt: TrajectoryRuntime, args: a.SessionName) -> dict:
    session = rt.sessions.get(args.session)
    # Give output already in flight a moment to land, so a poll right after a print sees it.
    await asyncio.sleep(0.05)
    return {
        "message": f"newest output of {session.name}",
        "output": session.buffer.tail(OUTPUT_TAIL_CHARS),
        **_state(session),
    }


async def _check_session_idle(rt: TrajectoryRuntime, args: a.SessionName) -> dict:
    session = rt.sessions.get(args.session)
    state = _state(session)
    message = "idle" if state["idle"] else f"busy running {state['running_command']!r}"
    return {"message": f"{session.name} is {message}", **state}


async def _kill_session_processes(rt: TrajectoryRuntime, args: a.SessionName) -> dict:
    session = rt.sessions.get(args.session)
    was_busy = await session.kill()
    what = "killed the running command" if was_busy else "nothing was running"
    return {"message": f"{what}; {session.name} restarts fresh", "session": session.name}


async def _close_session(rt: TrajectoryRuntime, args: a.SessionName) -> dict:
    await rt.sessions.close(args.session)
    return {"message": f"closed {args.session}"}


SESSION_TOOLS = {
    "create_session": _create_session,
    "list_sessions": _list_sessions,
    "run_command": _run_command,
    "input_in_session": _input_in_session,
    "get_session_output": _get_session_output,
    "check_session_idle": _check_session_idle,
    "kill_session_processes": _kill_session_processes,
    "close_session": _close_session,
}
