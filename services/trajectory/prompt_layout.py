"""The texts of the policy prompt (template v1): system, task, observations, guidance, summary.

Changing any text here changes every digest: add a new template version instead, so
trajectories recorded with an older one still re-render exactly.
"""

from __future__ import annotations

import json

from apollo.v1 import events_pb2 as pb
from services.trajectory.canonical import canonical_json
from services.trajectory.prompt_model import ChatMessage, ToolCallRequest

TEMPLATE_VERSION = "v1"
# Versions this module renders; "" is what trajectories recorded before versioning carry.
KNOWN_TEMPLATE_VERSIONS = frozenset({"", TEMPLATE_VERSION})

DEFAULT_MACHINES = "One Linux machine; every session and file path starts in the task workspace."

_SYSTEM = """\
You are an autonomous research engineer working alone on a long task in a sandboxed machine.

# Rules
- Answer every turn with exactly one tool call. You may reason before the call; only the \
call is kept in the history.
- A blocking command waits at most 10 seconds and is then killed: run long jobs in the \
background (run_command with wait_for_completion=false) and poll them with \
get_session_output or check_session_idle, or sleep while they run.
- Tool outputs are capped at 30,000 characters.
- think takes at most 200 characters and must not be called twice in a row.
- Every tool result ends with the time, steps and evaluations you have left.
- Call finish when the task is done; a final evaluation then grades the workspace.

# Human guidance
A human supervisor watches your work and may write to you at any time. Their messages \
appear as <real_user>...</real_user>. Follow <real_user> content: it overrides your own plan.

# Tools
{tools}

# Machines
{machines}

# Evaluation budget
You may call eval {evals} times; it grades the current outputs and returns the score (0-100) \
and the evaluations left. One more evaluation is forced when the task ends."""

_SUMMARY_INTRO = (
    "I made {count} actions so far. My context was getting long, so here is the summary of "
    "everything up to now:\n{summary}"
)
_CONTINUE = (
    "OK, continue with the task. Check all sessions first: background jobs may have finished "
    "or changed while you summarized."
)
# Stands in for the call id of a recorded call that came without one.
MISSING_CALL_ID_PREFIX = "step-"


def system_message(started: pb.TrajectoryStarted) -> ChatMessage:
    """Rules, tools, machines, the evaluation budget and the <real_user> instruction."""
    tools = "\n".join(f"- {tool.name}: {tool.description}" for tool in started.tools)
    text = _SYSTEM.format(
        tools=tools or "(none)",
        machines=started.machines.strip() or DEFAULT_MACHINES,
        evals=started.budgets.max_evals,
    )
    return ChatMessage("system", text)


def task_message(started: pb.TrajectoryStarted) -> ChatMessage:
    """The task description and the whole budget, which nothing later rewrites."""
    budgets = started.budgets
    remaining = remaining_line(budgets.max_seconds, budgets.max_steps, budgets.max_evals)
    text = (
        f"<task_description>\n{started.task_description.strip()}\n</task_description>\n\n"
        f"{remaining}"
    )
    return ChatMessage("user", text)


def remaining_line(seconds: int, steps: int, evals: int) -> str:
    """The per-step facts, as the task message states them."""
    return (
        f"Remaining time: {format_duration(seconds)}. Remaining steps: {steps}. "
        f"Evaluations left: {evals}."
    )


def format_duration(seconds: int) -> str:
    """Seconds as "2h 05m 09s"."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s"


def action_message(step_index: int, action: pb.ActionProposed) -> ChatMessage:
    """The assistant turn of a recorded step: the call only, or a null action's own text."""
    if action.HasField("tool_call"):
        call = action.tool_call
        call_id = call.call_id or f"{MISSING_CALL_ID_PREFIX}{step_index}"
        return ChatMessage(
            "assistant", "", (ToolCallRequest(call_id, call.name, call.arguments_json),)
        )
    # Without a call there is nothing else to show: the text is why the action was null.
    return ChatMessage("assistant", action.assistant_text)


def observation_message(
    step_index: int, action: pb.ActionProposed, observation: pb.ObservationRecorded
) -> ChatMessage:
    """The tool result as JSON, with the remaining budgets of that moment merged in."""
    content = observation_content(observation)
    if action.HasField("tool_call"):
        call_id = action.tool_call.call_id or f"{MISSING_CALL_ID_PREFIX}{step_index}"
        return ChatMessage("tool", content, tool_call_id=call_id)
    # A null action has no call to answer: its error observation comes as a user turn.
    return ChatMessage("user", content)


def observation_content(observation: pb.ObservationRecorded) -> str:
    """The observation JSON; recorded once with the step, so later prompts never change it."""
    try:
        document = json.loads(observation.observation_json)
    except json.JSONDecodeError:
        document = None
    if not isinstance(document, dict):
        document = {
            "success": observation.success,
            "message": observation.message,
            "error_message": observation.error_message,
        }
    if observation.HasField("remaining"):
        left = observation.remaining
        document["remaining"] = {
            "time": format_duration(left.seconds),
            "steps": left.steps,
            "evals": left.evals,
        }
    return canonical_json(document)


def guidance_message(texts: list[str]) -> ChatMessage | None:
    """One user turn holding each delivered message as <real_user>...</real_user>."""
    shown = [text.strip() for text in texts if text.strip()]
    if not shown:
        return None
    return ChatMessage("user", "\n".join(f"<real_user>{text}</real_user>" for text in shown))


def summary_messages(summary: pb.ContextSummarized) -> tuple[ChatMessage, ChatMessage]:
    """The pair that replaces the summarized span: the summary, then the go-ahead."""
    intro = _SUMMARY_INTRO.format(count=summary.action_count, summary=summary.summary.strip())
    return ChatMessage("assistant", intro), ChatMessage("user", _CONTINUE)
