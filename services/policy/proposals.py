"""The events the policy records: an ActionProposed or a SummaryRequested, with derived ids."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event
from services.llm.port import ModelReply
from services.policy.parsing import parse_reply
from services.trajectory.derived_ids import derived_event_id
from services.trajectory.prompt import NextPrompt
from services.trajectory.state import Trajectory

SERVICE = "policy"


def turn_cause(state: Trajectory, step_index: int) -> pb.Event:
    """The event that opened this turn: the previous step's observation, or the start."""
    for step in state.steps:
        if step.index == step_index - 1 and step.observation is not None:
            return step.observation
    if state.started is None:
        raise ValueError(f"trajectory {state.trajectory_id} has not started")
    return state.started


def action_proposed(
    state: Trajectory, upcoming: NextPrompt, model: pb.ModelSpec, reply: ModelReply
) -> pb.Event:
    """The ActionProposed of a reply; its id is the same whoever proposes this step again."""
    started = state.started.trajectory_started if state.started else pb.TrajectoryStarted()
    body = pb.ActionProposed(
        step_index=upcoming.step_index,
        model=model,
        assistant_text=reply.text,
        usage=reply.usage.to_proto(),
        latency_ms=max(0, reply.latency_ms),
        delivered_guidance_ids=list(upcoming.delivered_guidance_ids),
        summary_id=upcoming.summary_id,
        prompt_digest=upcoming.prompt.digest,
    )
    outcome = parse_reply(reply, list(started.tools))
    if isinstance(outcome, pb.ToolCall):
        body.tool_call.CopyFrom(outcome)
    else:
        body.parse_error.CopyFrom(outcome)
    cause = turn_cause(state, upcoming.step_index)
    event_id = _derived(cause.occurred_at, state.trajectory_id, "action_proposed", upcoming)
    return _event(body, state, cause, event_id)


def summary_requested(state: Trajectory, upcoming: NextPrompt, body: pb.SummaryRequested):
    """The SummaryRequested of this turn, with an id derived like the action's."""
    cause = turn_cause(state, upcoming.step_index)
    event_id = _derived(
        cause.occurred_at, state.trajectory_id, "summary_requested", upcoming,
        body.previous_summary_id,
    )  # fmt: skip
    return _event(body, state, cause, event_id)


def _derived(at: Timestamp, trajectory_id: str, kind: str, upcoming: NextPrompt, *more: str) -> str:
    return derived_event_id(at, trajectory_id, kind, str(upcoming.step_index), *more)


def _event(body, state: Trajectory, cause: pb.Event, event_id: str) -> pb.Event:
    return new_event(
        body,
        trajectory_id=state.trajectory_id,
        service=SERVICE,
        causation_id=cause.event_id,
        event_id=event_id,
    )
