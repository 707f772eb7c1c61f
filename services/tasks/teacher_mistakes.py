"""The simulated teacher's mistakes: where each can happen in a reference, and what it does.

A mistake happens at a position of the reference solution, before the teacher makes that
reference call. It is one deviant call, or one deviant call repeated until guidance comes
(a loop), and it may leave damage behind (a broken file, a killed job) that only guidance
makes the teacher repair. Everything here is a pure function of the reference calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.tasks.packs import ToolCallSpec
from services.trajectory.state import EVAL_TOOL, FINISH_TOOL


class Mistake(StrEnum):
    """A kind of deviation from the reference solution."""

    WRONG_PATH = "wrong_path"
    POLLING_LOOP = "polling_loop"
    EVAL_WITHOUT_CHANGE = "eval_without_change"
    BROKEN_EDIT = "broken_edit"
    SLEEP_TWICE = "sleep_twice"
    KILL_OWN_JOB = "kill_own_job"
    GIVE_UP = "give_up"
    WRONG_COMPUTATION = "wrong_computation"


# Mistakes that persist as a loop of identical or failing calls, which the gateway's drift
# signals flag, so an annotator who watches them steps in. The others are quieter: a killed
# job shows only when the teacher waits on it; an extra sleep only beside idle sessions; a
# wrong computation and giving up never.
LOUD_MISTAKES = frozenset(
    {Mistake.WRONG_PATH, Mistake.POLLING_LOOP, Mistake.EVAL_WITHOUT_CHANGE, Mistake.BROKEN_EDIT}
)

_PATH_TOOLS = frozenset({"open_file", "list_files", "search_file", "edit_file"})
_POLLED_TOOLS = frozenset(
    {"list_files", "open_file", "search_file", "get_session_output", "check_session_idle"}
)
_EDIT_TOOLS = frozenset({"edit_file", "create_file"})
# A directory no built-in task's workspace has, so a path under it names nothing.
WRONG_DIRECTORY = "src"
# Changes that keep code running but computing something else, tried in this order.
_SEMANTIC_SWAPS = ((" == ", " != "), (" < ", " > "), (" / ", " * "), ("+ 1", "+ 2"))


@dataclass(frozen=True)
class Damage:
    """What a mistake broke: the call that repairs it and where the reference resumes after."""

    repair: ToolCallSpec
    resume: int


@dataclass(frozen=True)
class Episode:
    """What one mistake at reference position `at` makes the teacher do."""

    mistake: Mistake
    at: int
    # The deviant call made once, or None.
    call: ToolCallSpec | None = None
    # A deviant call repeated until guidance arrives, or None.
    loop: ToolCallSpec | None = None
    # Whether the deviant call takes the place of the reference call at `at`.
    replaces: bool = False
    damage: Damage | None = None
    # Whether the next run_command that waits is retried until guidance (it fails now).
    retries_next_run: bool = False


def episodes_at(reference: Sequence[ToolCallSpec], at: int) -> list[Episode]:
    """Every mistake that can happen before the reference call `at`, in `Mistake` order."""
    builders = (
        _wrong_path,
        _polling_loop,
        _eval_without_change,
        _broken_edit,
        _sleep_twice,
        _kill_own_job,
        _give_up,
        _wrong_computation,
    )
    found = (build(reference, at) for build in builders)
    return [episode for episode in found if episode is not None]


def _call(tool: str, **arguments: object) -> ToolCallSpec:
    return ToolCallSpec(tool=tool, arguments=arguments)


def _with(call: ToolCallSpec, **changes: object) -> ToolCallSpec:
    return ToolCallSpec(tool=call.tool, arguments={**call.arguments, **changes})


def _previous(reference: Sequence[ToolCallSpec], at: int) -> ToolCallSpec | None:
    return reference[at - 1] if at >= 1 else None


def _wrong_path(reference: Sequence[ToolCallSpec], at: int) -> Episode | None:
    call = reference[at]
    if call.tool not in _PATH_TOOLS:
        return None
    path = str(call.arguments.get("path", "."))
    wrong = WRONG_DIRECTORY if path in ("", ".") else f"{WRONG_DIRECTORY}/{path}"
    return Episode(Mistake.WRONG_PATH, at, loop=_with(call, path=wrong))


def _polling_loop(reference: Sequence[ToolCallSpec], at: int) -> Episode | None:
    previous = _previous(reference, at)
    if previous is None or previous.tool not in _POLLED_TOOLS:
        return None
    return Episode(Mistake.POLLING_LOOP, at, loop=previous)


def _eval_without_change(reference: Sequence[ToolCallSpec], at: int) -> Episode | None:
    previous = _previous(reference, at)
    if previous is None or previous.tool != EVAL_TOOL:
        return None
    return Episode(Mistake.EVAL_WITHOUT_CHANGE, at, loop=previous)


def _sleep_twice(reference: Sequence[ToolCallSpec], at: int) -> Episode | None:
    previous = _previous(reference, at)
    if previous is None or previous.tool != "sleep":
        return None
    return Episode(Mistake.SLEEP_TWICE, at, call=previous)


def _kill_own_job(reference: Sequence[ToolCallSpec], at: int) -> Episode | None:
    previous = _previous(reference, at)
    if previous is None or previous.tool != "run_command":
        return None
    if previous.arguments.get("wait_for_completion", True):
        return None
    session = previous.arguments.get("session") or _next_session(reference, at)
    if not session:
        return None
    kill = _call("kill_session_processes", session=session)
    return Episode(Mistake.KILL_OWN_JOB, at, call=kill, damage=Damage(previous, at))


def _next_session(reference: Sequence[ToolCallSpec], at: int) -> str | None:
    # A background job without a named session runs in the first one; the reference names
    # it when it polls the job.
    return next((c.arguments["session"] for c in reference[at:] if "session" in c.arguments), None)


def _give_up(reference: Sequence[ToolCallSpec], at: int) -> Episode | None:
    # Right after a command's output: it did not like what it saw and stopped.
    previous = _previous(reference, at)
    if previous is None or previous.tool != "run_command" or reference[at].tool == FINISH_TOOL:
        return None
    finish = _call(FINISH_TOOL, summary="this does not seem to work; stopping here")
    return Episode(Mistake.GIVE_UP, at, call=finish)


def _python_edit(call: ToolCallSpec) -> str | None:
    """The content of an edit or creation of a Python file, else None."""
    if call.tool not in _EDIT_TOOLS or not str(call.arguments.get("path", "")).endswith(".py"):
        return None
    return str(call.arguments.get("content", ""))


def _broken_edit(reference: Sequence[ToolCallSpec], at: int) -> Episode | None:
    call = reference[at]
    content = _python_edit(call)
    if content is None or ")" not in content:
        return None
    # A forgotten closing parenthesis: a syntax error that keeps the line count.
    broken = _with(call, content=content.replace(")", "", 1))
    damage = Damage(rewrite(call), at + 1)
    return Episode(
        Mistake.BROKEN_EDIT, at, call=broken, replaces=True, damage=damage, retries_next_run=True
    )


def _wrong_computation(reference: Sequence[ToolCallSpec], at: int) -> Episode | None:
    call = reference[at]
    content = _python_edit(call)
    if content is None:
        return None
    for old, new in _SEMANTIC_SWAPS:
        if old in content:
            wrong = _with(call, content=content.replace(old, new, 1))
            return Episode(
                Mistake.WRONG_COMPUTATION,
                at,
                call=wrong,
                replaces=True,
                damage=Damage(rewrite(call), at + 1),
            )
    return None


def rewrite(call: ToolCallSpec) -> ToolCallSpec:
    """The call that writes what `call` wrote over a version of the same line count.

    An edit is simply made again; a file's creation becomes an edit of all its lines, since
    creating it again would fail."""
    if call.tool != "create_file":
        return call
    content = str(call.arguments.get("content", ""))
    lines = len(content.splitlines())
    return _call("edit_file", path=call.arguments["path"], start=1, end=lines, content=content)


def is_waiting_run(call: ToolCallSpec) -> bool:
    """Whether `call` runs a command and waits for it (so its failure shows at once)."""
    return call.tool == "run_command" and call.arguments.get("wait_for_completion", True)
