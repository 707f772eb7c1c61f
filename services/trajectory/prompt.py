"""Rendering the policy's prompt from the log: the next one, or any recorded action's again.

Everything a prompt holds is decided by the log: the summary an action built on is
`ActionProposed.summary_id` and the guidance delivered into it is
`ActionProposed.delivered_guidance_ids`, so re-rendering a recorded action is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from apollo.v1 import events_pb2 as pb
from services.trajectory.fold import fold
from services.trajectory.prompt_layout import (
    KNOWN_TEMPLATE_VERSIONS,
    action_message,
    guidance_message,
    observation_message,
    summary_messages,
    system_message,
    task_message,
)
from services.trajectory.prompt_model import ChatMessage, Prompt, SamplingParams, ToolDefinition
from services.trajectory.state import Step, Trajectory, next_step_index


class RenderError(ValueError):
    """The log lacks something the prompt needs (a start, an observation, a summary...)."""


@dataclass(frozen=True, slots=True)
class NextPrompt:
    """The prompt of the next step and what it delivers, as ActionProposed will record it."""

    prompt: Prompt
    step_index: int
    delivered_guidance_ids: tuple[str, ...]
    summary_id: str


def render_prompt(source: Trajectory | Iterable[pb.Event], step_index: int | None = None) -> Prompt:
    """The prompt of `step_index` (a recorded action's, or the next one), else of the next step."""
    state = source if isinstance(source, Trajectory) else fold(source)
    if step_index is None or step_index == next_step_index(state):
        return render_next_prompt(state).prompt
    for step in state.steps:
        if step.index == step_index:
            return render_action_prompt(state, step.action)
    raise RenderError(f"trajectory {state.trajectory_id} has no action at step {step_index}")


def render_next_prompt(state: Trajectory) -> NextPrompt:
    """The next step's prompt: the window since the latest summary, then all pending guidance."""
    summary = state.latest_summary
    step_index = next_step_index(state)
    guidance_ids = tuple(event.event_id for event in state.pending_guidance)
    prompt = _render(state, step_index, summary, guidance_ids)
    return NextPrompt(prompt, step_index, guidance_ids, summary.event_id if summary else "")


def render_action_prompt(state: Trajectory, action: pb.Event) -> Prompt:
    """The prompt a recorded ActionProposed was answering, rebuilt from the log."""
    body = action.action_proposed
    summary = _summary(state, body.summary_id) if body.summary_id else None
    return _render(state, body.step_index, summary, tuple(body.delivered_guidance_ids))


def window_steps(state: Trajectory, first: int, end: int) -> list[Step]:
    """The steps first..end-1 in order, the first recorded action of each index."""
    by_index = _first_steps(state, first, end)
    missing = sorted(set(range(first, end)) - set(by_index))
    if missing:
        raise RenderError(f"trajectory {state.trajectory_id} lacks the actions of steps {missing}")
    return [by_index[index] for index in range(first, end)]


def _first_steps(state: Trajectory, first: int, end: int) -> dict[int, Step]:
    """The first recorded action of each index in first..end-1 that has one."""
    steps, positions = state.steps, state.first_step_positions
    found: dict[int, Step] = {}
    for index in range(first, end):
        position = positions.get(index)
        if position is not None and position < len(steps):
            found[index] = steps[position]
    # A state built by hand has no positions (or ones of other steps): scan its steps.
    by_hand = bool(steps) and not positions
    if by_hand or any(step.index != index for index, step in found.items()):
        found = {}
        for step in steps:
            if first <= step.index < end:
                found.setdefault(step.index, step)
    return found


def window_start(summary: pb.Event | None) -> int:
    """The first step shown verbatim after `summary` (0 without one)."""
    return summary.context_summarized.last_step_index + 1 if summary is not None else 0


def started_of(state: Trajectory) -> pb.TrajectoryStarted:
    """The TrajectoryStarted body, checked to be renderable by this code."""
    if state.started is None:
        raise RenderError(f"trajectory {state.trajectory_id} has no TrajectoryStarted")
    started = state.started.trajectory_started
    if started.prompt_template_version not in KNOWN_TEMPLATE_VERSIONS:
        raise RenderError(
            f"prompt template {started.prompt_template_version!r} is unknown to this build; "
            f"known: {sorted(KNOWN_TEMPLATE_VERSIONS)}"
        )
    return started


def guidance_texts(state: Trajectory) -> dict[str, str]:
    """The text of every GuidanceSubmitted, by event_id."""
    return {event.event_id: event.guidance_submitted.text for event in state.guidance}


def _render(
    state: Trajectory, step_index: int, summary: pb.Event | None, guidance_ids: Sequence[str]
) -> Prompt:
    started = started_of(state)
    texts = guidance_texts(state)
    messages = [system_message(started), task_message(started)]
    if summary is not None:
        messages.extend(summary_messages(summary.context_summarized))
    for step in window_steps(state, window_start(summary), step_index):
        action = step.action.action_proposed
        _add_guidance(messages, texts, action.delivered_guidance_ids, state)
        if step.observation is None:
            raise RenderError(f"step {step.index} of {state.trajectory_id} has no observation")
        messages.append(action_message(step.index, action))
        messages.append(
            observation_message(step.index, action, step.observation.observation_recorded)
        )
    _add_guidance(messages, texts, guidance_ids, state)
    return Prompt(
        tuple(messages),
        tuple(ToolDefinition.from_proto(tool) for tool in started.tools),
        SamplingParams.from_proto(started.policy.sampling),
    )


def _add_guidance(
    messages: list[ChatMessage], texts: dict[str, str], ids: Sequence[str], state: Trajectory
) -> None:
    unknown = [guidance_id for guidance_id in ids if guidance_id not in texts]
    if unknown:
        raise RenderError(f"trajectory {state.trajectory_id} has no guidance {unknown}")
    message = guidance_message([texts[guidance_id] for guidance_id in ids])
    if message is not None:
        messages.append(message)


def _summary(state: Trajectory, summary_id: str) -> pb.Event:
    for summary in state.summaries:
        if summary.event_id == summary_id:
            return summary
    raise RenderError(f"trajectory {state.trajectory_id} has no summary {summary_id}")
