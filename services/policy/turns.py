"""What a trajectory's turn calls for: nothing, a summary first, or a proposal (pure)."""

from __future__ import annotations

from apollo.v1 import events_pb2 as pb
from services.trajectory.prompt import NextPrompt, window_start
from services.trajectory.state import Trajectory, is_agent_turn, next_step_index


def may_propose(state: Trajectory) -> bool:
    """The policy's turn, within the step and time budgets (the sandbox ends the run itself)."""
    if not is_agent_turn(state):
        return False
    budgets = state.budgets
    if budgets is None:
        return True
    if budgets.max_steps and next_step_index(state) >= budgets.max_steps:
        return False
    return not (budgets.max_seconds and state.used.elapsed_seconds >= budgets.max_seconds)


def summary_request(
    state: Trajectory, upcoming: NextPrompt, prompt_tokens: int
) -> pb.SummaryRequested | None:
    """The request to summarize the window's earlier half, when the prompt reached the threshold."""
    threshold = state.started.trajectory_started.summary_threshold_tokens if state.started else 0
    if not threshold or prompt_tokens < threshold:
        return None
    latest = state.latest_summary
    # Every action after the newest summary builds on it, so the newest action tells.
    if latest is not None and (
        not state.steps or state.steps[-1].action.action_proposed.summary_id != latest.event_id
    ):
        # The newest summary is not used yet: summarizing again would not shrink anything.
        return None
    first = window_start(latest)
    shown = upcoming.step_index - first
    if shown < 2:
        return None
    return pb.SummaryRequested(
        step_index=upcoming.step_index,
        prompt_tokens=prompt_tokens,
        threshold_tokens=threshold,
        first_step_index=first,
        last_step_index=first + shown // 2 - 1,
        previous_summary_id=latest.event_id if latest is not None else "",
    )
