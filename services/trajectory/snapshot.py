"""Making a model's answer a valid <state_snapshot>: extract it, add missing reflections.

When the model gives no snapshot at all (a scripted backend, a broken answer), one is
built from the log itself so the trajectory can go on with a faithful, if plain, memory.
A built snapshot carries the sections of the summary it builds on forward, merged with the
new span (never that whole summary nested inside it), so a chain of them stays bounded.
"""

from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape, unescape

from services.trajectory.prompt import window_steps
from services.trajectory.state import Trajectory
from services.trajectory.summary_prompt import SummarySpan, covered_guidance

_SNAPSHOT = re.compile(r"<state_snapshot>.*?</state_snapshot>", re.DOTALL)
_REFLECTION = re.compile(r"<reflection>(.*?)</reflection>", re.DOTALL)
_FILE_TOOLS = frozenset({"create_file", "edit_file"})
# Recent actions listed by the built snapshot; older ones live in the experiment history.
_RECENT = 10
_CARRIED = (
    "key_knowledge",
    "file_and_browser_state",
    "recent_sessions",
    "recent_actions",
    "experiment_history",
)
_SECTIONS = {name: re.compile(rf"<{name}>(.*?)</{name}>", re.DOTALL) for name in _CARRIED}


def finished_snapshot(answer: str, state: Trajectory, span: SummarySpan) -> str:
    """The model's <state_snapshot>, or one built from the log, reflecting every <real_user>."""
    found = _SNAPSHOT.search(answer)
    snapshot = found.group(0) if found else built_snapshot(state, span)
    reflected = " ".join(_REFLECTION.findall(snapshot))
    missing = [
        text
        for text in covered_guidance(state, span.last_step_index)
        if text not in reflected and escape(text) not in reflected
    ]
    if not missing:
        return snapshot
    added = "".join(
        f'\n  <reflection>The human supervisor wrote: "{escape(text)}". I follow it from now on.'
        "</reflection>"
        for text in missing
    )
    return snapshot.replace("</state_snapshot>", added + "\n</state_snapshot>")


def built_snapshot(state: Trajectory, span: SummarySpan) -> str:
    """A plain snapshot from the recorded steps (actions, files, sessions, evaluations),
    merged with the sections and reflections of the summary it builds on."""
    before, reflections = _previous(span)
    files = _entries(before.get("file_and_browser_state", ""))
    sessions = _entries(before.get("recent_sessions", ""))
    actions = _lines(before.get("recent_actions", ""))
    experiments = _lines(before.get("experiment_history", ""))
    for step in window_steps(state, span.first_step_index, span.last_step_index + 1):
        proposed = step.action.action_proposed
        observation = step.observation.observation_recorded if step.observation else None
        outcome = "no observation" if observation is None else _outcome(observation)
        if not proposed.HasField("tool_call"):
            actions.append(f"step {step.index}: null action ({proposed.parse_error.kind})")
            continue
        call = proposed.tool_call
        actions.append(
            _one_line(f"step {step.index}: {call.name} {call.arguments_json[:200]} -> {outcome}")
        )
        arguments = _arguments(call.arguments_json)
        if call.name in _FILE_TOOLS and "path" in arguments:
            files[_one_line(str(arguments["path"]))] = f"{call.name} at step {step.index}"
        if call.name == "run_command":
            sessions[_one_line(str(arguments.get("session") or "default"))] = _one_line(
                f"last ran {arguments.get('command')}"
            )
        if observation is not None and observation.HasField("eval_score"):
            experiments.append(f"step {step.index}: eval score {observation.eval_score:g}")
    best = "none yet" if state.best_score is None else f"best eval score {state.best_score:g}"
    sections = {
        "state_of_the_art": best,
        "hypotheses": "[TODO] continue the task from the recent actions",
        "key_knowledge": before.get("key_knowledge", ""),
        "file_and_browser_state": "\n".join(f"{p}: {what}" for p, what in files.items()),
        "recent_sessions": "\n".join(f"{s}: {what}" for s, what in sessions.items()),
        "recent_actions": "\n".join(actions[-_RECENT:]),
        "experiment_history": "\n".join(experiments),
    }
    body = "".join(f"\n  <{name}>{escape(text)}</{name}>" for name, text in sections.items())
    carried = "".join(f"\n  <reflection>{text}</reflection>" for text in reflections)
    return f"<state_snapshot>{body}{carried}\n</state_snapshot>"


def _previous(span: SummarySpan) -> tuple[dict[str, str], list[str]]:
    """The carried sections (unescaped) and the reflections (as written) of the summary the
    span builds on; a summary that is no snapshot counts as knowledge."""
    if span.previous_summary is None:
        return {}, []
    summary = span.previous_summary.context_summarized.summary
    found = _SNAPSHOT.search(summary)
    if found is None:
        return {"key_knowledge": summary.strip()}, []
    snapshot = found.group(0)
    sections = {
        name: unescape(match.group(1).strip())
        for name, pattern in _SECTIONS.items()
        if (match := pattern.search(snapshot))
    }
    return sections, _REFLECTION.findall(snapshot)


def _one_line(text: str) -> str:
    """`text` with its whitespace runs (newlines included) as single spaces: one entry per
    line is what lets the next built snapshot read these sections back."""
    return " ".join(text.split())


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _entries(text: str) -> dict[str, str]:
    """`key: value` lines as a dict, so the newest value of a file or session wins."""
    entries: dict[str, str] = {}
    for line in _lines(text):
        key, _, value = line.partition(": ")
        entries[key] = value
    return entries


def _outcome(observation) -> str:
    status = "ok" if observation.success else "failed"
    detail = observation.error_message or observation.message
    return f"{status}: {detail[:200]}" if detail else status


def _arguments(arguments_json: str) -> dict:
    try:
        arguments = json.loads(arguments_json)
    except json.JSONDecodeError:
        return {}
    return arguments if isinstance(arguments, dict) else {}
