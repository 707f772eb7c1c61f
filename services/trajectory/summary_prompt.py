"""The summarization prompt: the earlier half of a window into a <state_snapshot> (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from apollo.v1 import events_pb2 as pb
from services.trajectory.prompt import (
    RenderError,
    guidance_texts,
    started_of,
    window_steps,
)
from services.trajectory.prompt_layout import guidance_message, observation_content
from services.trajectory.prompt_model import ChatMessage, Prompt, SamplingParams
from services.trajectory.state import Trajectory

_SYSTEM = """\
You compress the history of an agent working on a long research task. Your summary becomes \
the agent's only memory of the span below, so keep every fact it needs to go on: paths, \
session names, commands, numbers, scores, errors and decisions.

Answer with one dense XML document and nothing else:
<state_snapshot>
  <state_of_the_art>the best result so far and how it was obtained</state_of_the_art>
  <hypotheses>each line tagged [TESTING], [PROVEN] or [TODO]</hypotheses>
  <key_knowledge>facts learned about the task, the data and the tools</key_knowledge>
  <reflection>one element per <real_user> message: quote it verbatim, then say what it \
changed and what you do differently now</reflection>
  <file_and_browser_state>files created or edited and what they hold</file_and_browser_state>
  <recent_sessions>every open session: last command, idle or running, resource use\
</recent_sessions>
  <recent_actions>the last actions and their outcomes</recent_actions>
  <experiment_history>every experiment and evaluation with its result</experiment_history>
</state_snapshot>"""


@dataclass(frozen=True, slots=True)
class SummarySpan:
    """What one SummaryRequested asks to summarize."""

    first_step_index: int
    last_step_index: int
    previous_summary: pb.Event | None

    @property
    def action_count(self) -> int:
        """Actions the summary stands for: earlier summaries are folded into it."""
        return self.last_step_index + 1


def summary_span(state: Trajectory, request: pb.SummaryRequested) -> SummarySpan:
    """The span of a request, with the summary it builds on found in the log."""
    previous = None
    if request.previous_summary_id:
        previous = next(
            (s for s in state.summaries if s.event_id == request.previous_summary_id), None
        )
        if previous is None:
            raise RenderError(f"no summary {request.previous_summary_id} to build on")
    return SummarySpan(request.first_step_index, request.last_step_index, previous)


def render_summary_prompt(state: Trajectory, request: pb.SummaryRequested) -> Prompt:
    """The summarizer's prompt for `request`: instructions, then the span as a transcript."""
    started = started_of(state)
    span = summary_span(state, request)
    parts = [f"<task_description>\n{started.task_description.strip()}\n</task_description>"]
    if span.previous_summary is not None:
        parts.append(
            "Summary of the actions before this span:\n"
            + span.previous_summary.context_summarized.summary.strip()
        )
    parts.append(_transcript(state, span))
    parts.append(
        f"Write the <state_snapshot> of steps 0 to {span.last_step_index} now. Quote every "
        "<real_user> message in a <reflection>."
    )
    messages = (ChatMessage("system", _SYSTEM), ChatMessage("user", "\n\n".join(parts)))
    return Prompt(messages, (), SamplingParams.from_proto(started.policy.sampling))


def covered_guidance(state: Trajectory, last_step_index: int) -> list[str]:
    """Texts of the guidance delivered into steps 0..last, which the summary must reflect."""
    texts = guidance_texts(state)
    quoted: dict[str, None] = {}
    for step in state.steps:
        if step.index <= last_step_index:
            for guidance_id in step.action.action_proposed.delivered_guidance_ids:
                text = texts.get(guidance_id, "").strip()
                if text:
                    quoted[text] = None
    return list(quoted)


def _transcript(state: Trajectory, span: SummarySpan) -> str:
    texts = guidance_texts(state)
    lines = ["<transcript>"]
    for step in window_steps(state, span.first_step_index, span.last_step_index + 1):
        action = step.action.action_proposed
        delivered = guidance_message([texts.get(g, "") for g in action.delivered_guidance_ids])
        if delivered is not None:
            lines.append(delivered.content)
        if action.HasField("tool_call"):
            call = action.tool_call
            lines.append(f"[step {step.index}] {call.name} {call.arguments_json}")
        else:
            lines.append(f"[step {step.index}] null action: {action.assistant_text}")
        if step.observation is not None:
            lines.append(observation_content(step.observation.observation_recorded))
    lines.append("</transcript>")
    return "\n".join(lines)
