"""Folding a trajectory's events into its state: `fold` for a history, `apply` for one more.

Folding one more event costs the same at step 4,000 as at step 10. Successive states of a
trajectory share one `_Folding`, which owns the growing history (steps, guidance, summaries,
delivered ids, event ids) in append-only logs; each `Trajectory` it hands out holds views of
the prefixes it saw, so it stays the exact, unchanging state after its events. `apply` on
the newest state appends; `apply` on any other state (an older one, or one built or
`replace`d by hand) first copies it into a new folding, which costs its length once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.trajectory.append_log import KeyLog, KeySetView, LogView, PositionsView, RevisedLog
from services.trajectory.state import (
    EVAL_TOOL,
    Budgets,
    BudgetUsage,
    Step,
    Trajectory,
    TrajectoryStatus,
    status_after_end,
)
from services.trajectory.timestamps import utc_datetime

# The body kinds that make a trajectory's state. Verdicts and training events live on
# other topics, and step labels (on the log, for calibrating the judge) say nothing about
# the run itself, so no prompt may change with them.
LOG_KINDS = frozenset(
    {
        "trajectory_started",
        "action_proposed",
        "observation_recorded",
        "guidance_submitted",
        "summary_requested",
        "context_summarized",
        "trajectory_ended",
        "trajectory_cancelled",
    }
)


def fold(events: Iterable[pb.Event], trajectory_id: str | None = None) -> Trajectory:
    """The state after `events` in log order, of `trajectory_id` or else the first one seen."""
    folding = _Folding(Trajectory(trajectory_id=trajectory_id or ""))
    for event in events:
        if folding.concerns(event):
            folding.apply(event)
    return folding.freeze()


def apply(state: Trajectory, event: pb.Event) -> Trajectory:
    """The state after one more event; `state` itself when the event changes nothing."""
    folding = state.folding
    if not isinstance(folding, _Folding) or folding.latest is not state:
        folding = _Folding(state)
    if not folding.concerns(event):
        return state
    folding.apply(event)
    return folding.freeze()


class _Folding:
    """The growing state of one trajectory, which successive snapshots share."""

    def __init__(self, state: Trajectory) -> None:
        self.latest = state
        self.trajectory_id = state.trajectory_id
        self.task_id = state.task_id
        self.status = state.status
        self.cancel_requested = state.cancel_requested
        self.started = state.started
        self.ended = state.ended
        self.budgets = state.budgets
        self.last_eval_score = state.last_eval_score
        self.best_score = state.best_score
        self.final_score = state.final_score
        self.last_event_at = state.last_event_at
        # The newest occurred_at applied since the last freeze: converted once, when frozen.
        self.newest_stamp: Timestamp | None = None
        self.evals_used = state.used.evals
        self.steps: RevisedLog[Step] = RevisedLog()
        self.position_by_action_id: dict[str, int] = {}
        self.first_position_by_index: dict[int, int] = {}
        self.unobserved = 0
        self.last_step_index = -1
        for step in state.steps:
            self._add_step(step)
        self.strays = tuple(state.stray_observations)
        self.guidance = list(state.guidance)
        self.pending_guidance = tuple(state.pending_guidance)
        self.delivered = KeyLog(state.delivered_guidance_ids)
        self.flagged = tuple(state.flagged_steps)
        self.summaries = list(state.summaries)
        self.answered_requests = {s.context_summarized.request_id for s in self.summaries}
        self.pending_requests = tuple(state.pending_summary_requests)
        self.event_ids = KeyLog(state.event_ids)
        self.handlers: dict[str, Callable[[pb.Event], None]] = {
            "trajectory_started": self._started,
            "action_proposed": self._action,
            "observation_recorded": self._observation,
            "guidance_submitted": self._guidance,
            "summary_requested": self._summary_requested,
            "context_summarized": self._summarized,
            "trajectory_ended": self._ended,
            "trajectory_cancelled": self._cancelled,
        }

    def concerns(self, event: pb.Event) -> bool:
        """Whether `event` is a new fact of this trajectory."""
        # Delivery is at-least-once, so a known event_id is a redelivery, never a new fact.
        return (
            event.WhichOneof("body") in LOG_KINDS
            and event.trajectory_id != ""
            and self.trajectory_id in ("", event.trajectory_id)
            and event.event_id not in self.event_ids
        )

    def apply(self, event: pb.Event) -> None:
        """Record one event this trajectory has not seen (the caller checked)."""
        self.event_ids.add(event.event_id)
        self.trajectory_id = event.trajectory_id
        stamp, newest = event.occurred_at, self.newest_stamp
        if newest is None or (stamp.seconds, stamp.nanos) > (newest.seconds, newest.nanos):
            self.newest_stamp = stamp
        self.handlers[event.WhichOneof("body")](event)

    def freeze(self) -> Trajectory:
        """The state holding everything applied so far, which later events leave as it is."""
        if self.newest_stamp is not None:
            when, last = utc_datetime(self.newest_stamp), self.last_event_at
            self.last_event_at = when if last is None else max(last, when)
            self.newest_stamp = None
        version = len(self.event_ids)
        event_ids = self.event_ids.view()
        self.latest = Trajectory(
            trajectory_id=self.trajectory_id,
            task_id=self.task_id,
            status=self.status,
            cancel_requested=self.cancel_requested,
            started=self.started,
            ended=self.ended,
            steps=self.steps.view(version),
            stray_observations=self.strays,
            guidance=LogView(self.guidance, len(self.guidance)),
            pending_guidance=self.pending_guidance,
            delivered_guidance_ids=self.delivered.view(),
            flagged_steps=self.flagged,
            summaries=LogView(self.summaries, len(self.summaries)),
            pending_summary_requests=self.pending_requests,
            budgets=self.budgets,
            used=BudgetUsage(len(self.steps), self.evals_used, self._elapsed_seconds()),
            last_eval_score=self.last_eval_score,
            best_score=self.best_score,
            final_score=self.final_score,
            last_event_at=self.last_event_at,
            event_ids=KeySetView(event_ids),
            first_step_positions=PositionsView(self.first_position_by_index, len(self.steps)),
            unobserved_steps=self.unobserved,
            last_step_index=self.last_step_index,
            folding=self,
        )
        return self.latest

    def _elapsed_seconds(self) -> float:
        started, last = self.started, self.last_event_at
        if started is None or last is None:
            return 0.0
        elapsed = (last - utc_datetime(started.occurred_at)).total_seconds()
        return max(elapsed, 0.0)

    def _add_step(self, step: Step) -> None:
        self.position_by_action_id[step.action_id] = len(self.steps)
        self.first_position_by_index.setdefault(step.index, len(self.steps))
        self.steps.append(step)
        self.unobserved += not step.observed
        self.last_step_index = max(self.last_step_index, step.index)

    def _started(self, event: pb.Event) -> None:
        # The first start defines the run; a repeated start (a retried request) adds nothing.
        if self.started is not None:
            return
        body = event.trajectory_started
        self.task_id = body.task_id
        self.started = event
        self.budgets = Budgets.from_proto(body.budgets)

    def _action(self, event: pb.Event) -> None:
        # An observation recorded before its action (a replay out of order) pairs up now.
        stray = next(
            (s for s in self.strays if s.observation_recorded.action_id == event.event_id), None
        )
        if stray is not None:
            self.strays = tuple(s for s in self.strays if s is not stray)
        self._add_step(Step(event.action_proposed.step_index, event, stray))
        delivered = event.action_proposed.delivered_guidance_ids
        for guidance_id in delivered:
            self.delivered.add(guidance_id)
        if delivered:
            known = self.delivered
            self.pending_guidance = tuple(
                g for g in self.pending_guidance if g.event_id not in known
            )

    def _observation(self, event: pb.Event) -> None:
        body = event.observation_recorded
        if body.tool_name == EVAL_TOOL:
            self.evals_used += 1
        if body.HasField("eval_score"):
            self._score(body.eval_score, last_eval=True)
        position = self.position_by_action_id.get(body.action_id)
        if position is None or self.steps[position].observed:
            self.strays = (*self.strays, event)
            return
        step = self.steps[position]
        self.steps.revise(position, Step(step.index, step.action, event), len(self.event_ids))
        self.unobserved -= 1

    def _guidance(self, event: pb.Event) -> None:
        self.guidance.append(event)
        flagged = event.guidance_submitted.flagged_step_indices
        if flagged:
            self.flagged = tuple(sorted({*self.flagged, *flagged}))
        # An action may list guidance the log shows later (a replay out of order).
        if event.event_id not in self.delivered:
            self.pending_guidance = (*self.pending_guidance, event)

    def _summary_requested(self, event: pb.Event) -> None:
        if event.event_id not in self.answered_requests:
            self.pending_requests = (*self.pending_requests, event)

    def _summarized(self, event: pb.Event) -> None:
        self.summaries.append(event)
        request_id = event.context_summarized.request_id
        self.answered_requests.add(request_id)
        self.pending_requests = tuple(r for r in self.pending_requests if r.event_id != request_id)

    def _ended(self, event: pb.Event) -> None:
        # The latest end wins, as in the archive's read model.
        body = event.trajectory_ended
        final = body.final_score if body.HasField("final_score") else None
        self.status = status_after_end(body.reason)
        self.ended = event
        self.final_score = final
        for score in (final, body.best_score if body.HasField("best_score") else None):
            if score is not None:
                self._score(score, last_eval=False)

    def _cancelled(self, event: pb.Event) -> None:
        # A request after the end changes nothing: the run is already over.
        if self.status is TrajectoryStatus.RUNNING:
            self.cancel_requested = True

    def _score(self, score: float, *, last_eval: bool) -> None:
        best = self.best_score
        self.best_score = score if best is None else max(best, score)
        if last_eval:
            self.last_eval_score = score
