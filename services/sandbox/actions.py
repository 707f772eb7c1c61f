"""Running one action: its tool call in, its observation (and maybe the end) out."""

from __future__ import annotations

import time

import structlog

from apollo.v1 import events_pb2 as pb
from services.eventlog.blobs import BlobStore
from services.eventlog.events import new_event
from services.sandbox.grading import GradingFailed, grade
from services.sandbox.metrics import TOOL_CALLS, TOOL_SECONDS
from services.sandbox.observation import observation_body
from services.sandbox.runtime import TrajectoryRuntime
from services.sandbox.toolbox import ToolOutcome, run_tool

log = structlog.get_logger(__name__)

SERVICE = "sandbox"
RESTARTED_MID_ACTION = (
    "the sandbox service restarted while this action was running, so it did not complete and "
    "will not be run again; background processes were lost: check the workspace and sessions"
)


def sandbox_event(body, trigger: pb.Event) -> pb.Event:
    """An event of the sandbox's that answers `trigger`."""
    return new_event(
        body, trajectory_id=trigger.trajectory_id, service=SERVICE, causation_id=trigger.event_id
    )


def _outcome_of(action: pb.ActionProposed) -> tuple[str, ToolOutcome | None]:
    """The tool name, and an outcome already decided when there is no valid tool call."""
    if action.WhichOneof("outcome") == "tool_call":
        return action.tool_call.name, None
    error = action.parse_error
    kind = error.kind or "no_tool_call"
    return "", ToolOutcome(
        False, {}, f"null action ({kind}): {error.message}; check your output format"
    )


async def run_action(event: pb.Event, rt: TrajectoryRuntime, blobs: BlobStore) -> list[pb.Event]:
    """Run the proposed tool call; return its observation, and TrajectoryEnded if it ends."""
    action = event.action_proposed
    if rt.ended:
        return []
    rt.guidance_delivered.update(action.delivered_guidance_ids)
    started = time.monotonic()
    tool, outcome = _outcome_of(action)
    if outcome is None and rt.seconds_left <= 0:
        outcome = ToolOutcome(False, {}, "the time budget is exhausted; the task is over")
    if outcome is None:
        outcome = await run_tool(rt, tool, action.tool_call.arguments_json)
    seconds = time.monotonic() - started
    TOOL_CALLS.labels(tool or "null", str(outcome.success).lower()).inc()
    TOOL_SECONDS.labels(tool or "null").observe(seconds)
    body = await observation_body(
        action, event.event_id, tool, outcome, rt, blobs, int(seconds * 1000)
    )
    events = [sandbox_event(body, event)]
    reason = _end_reason(rt, action, outcome)
    if reason is not None:
        events.append(sandbox_event(await end_trajectory(rt, reason, action.step_index + 1), event))
    return events


def _end_reason(rt: TrajectoryRuntime, action: pb.ActionProposed, outcome: ToolOutcome):
    if outcome.finished:
        return pb.END_REASON_FINISHED
    if rt.budgets.max_steps and action.step_index + 1 >= rt.budgets.max_steps:
        return pb.END_REASON_STEP_BUDGET
    if rt.seconds_left <= 0:
        return pb.END_REASON_TIME_BUDGET
    return None


async def end_trajectory(rt: TrajectoryRuntime, reason: int, steps: int) -> pb.TrajectoryEnded:
    """Run the forced final evaluation, stop every session, and say how it ended."""
    rt.ended = True
    ended = pb.TrajectoryEnded(reason=reason, steps=steps)
    try:
        final = await grade(rt.instance, rt.workspace.root)
        ended.final_score = final.score
        rt.best_score = max(rt.best_score or 0.0, final.score)
    except GradingFailed as error:
        ended.detail = f"final evaluation failed: {error}"
    if rt.best_score is not None:
        ended.best_score = rt.best_score
    await rt.sessions.close_all()
    return ended


async def error_events(
    event: pb.Event, rt: TrajectoryRuntime | None, blobs: BlobStore, error: str, end: bool
) -> list[pb.Event]:
    """An error observation for an action that could not run, and the end when `end`."""
    action = event.action_proposed
    tool, _ = _outcome_of(action)
    body = await observation_body(
        action, event.event_id, tool, ToolOutcome(False, {}, error), rt, blobs, 0
    )
    events = [sandbox_event(body, event)]
    if end:
        ended = pb.TrajectoryEnded(
            reason=pb.END_REASON_ERROR, steps=action.step_index + 1, detail=error
        )
        if rt is not None:
            ended = await end_trajectory(rt, pb.END_REASON_ERROR, action.step_index + 1)
            ended.detail = error
        events.append(sandbox_event(ended, event))
    return events


def ended_with_error(event: pb.Event, detail: str) -> pb.Event:
    """The TrajectoryEnded of a trajectory that cannot run, answering `event`."""
    return sandbox_event(pb.TrajectoryEnded(reason=pb.END_REASON_ERROR, detail=detail), event)
