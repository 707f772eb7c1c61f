"""Folding a trajectory's events into its state: `fold` for a history, `apply` for one more."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import UTC

from apollo.v1 import events_pb2 as pb
from services.trajectory.state import (
    EVAL_TOOL,
    Budgets,
    BudgetUsage,
    Step,
    Trajectory,
    status_after_end,
)

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
    draft = _Draft(Trajectory(trajectory_id=trajectory_id or ""))
    for event in events:
        if _concerns(draft.state.trajectory_id, draft.event_ids, event):
            draft.apply(event)
    return draft.freeze()


def apply(state: Trajectory, event: pb.Event) -> Trajectory:
    """The state after one more event; `state` itself when the event changes nothing."""
    if not _concerns(state.trajectory_id, state.event_ids, event):
        return state
    draft = _Draft(state)
    draft.apply(event)
    return draft.freeze()


def _concerns(trajectory_id: str, event_ids: AbstractSet[str], event: pb.Event) -> bool:
    # Delivery is at-least-once, so a known event_id is a redelivery, never a new fact.
    return (
        event.WhichOneof("body") in LOG_KINDS
        and event.trajectory_id != ""
        and trajectory_id in ("", event.trajectory_id)
        and event.event_id not in event_ids
    )


class _Draft:
    """A mutable working copy of a state, so folding a long history stays linear."""

    def __init__(self, state: Trajectory) -> None:
        self.state = state
        self.steps = list(state.steps)
        self.position_by_action_id = {step.action_id: n for n, step in enumerate(self.steps)}
        self.strays = list(state.stray_observations)
        self.guidance = list(state.guidance)
        self.pending_guidance = list(state.pending_guidance)
        self.delivered = dict.fromkeys(state.delivered_guidance_ids)
        self.flagged = set(state.flagged_steps)
        self.summaries = list(state.summaries)
        self.pending_requests = list(state.pending_summary_requests)
        self.event_ids = set(state.event_ids)
        self.evals_used = state.used.evals
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

    def apply(self, event: pb.Event) -> None:
        """Record one event this trajectory has not seen (the caller checked)."""
        self.event_ids.add(event.event_id)
        when = event.occurred_at.ToDatetime(tzinfo=UTC)
        last = self.state.last_event_at
        self.state = replace(
            self.state,
            trajectory_id=event.trajectory_id,
            last_event_at=when if last is None else max(last, when),
        )
        self.handlers[event.WhichOneof("body")](event)

    def freeze(self) -> Trajectory:
        """The immutable state holding everything applied so far."""
        return replace(
            self.state,
            steps=tuple(self.steps),
            stray_observations=tuple(self.strays),
            guidance=tuple(self.guidance),
            pending_guidance=tuple(self.pending_guidance),
            delivered_guidance_ids=tuple(self.delivered),
            flagged_steps=tuple(sorted(self.flagged)),
            summaries=tuple(self.summaries),
            pending_summary_requests=tuple(self.pending_requests),
            used=BudgetUsage(len(self.steps), self.evals_used, self._elapsed_seconds()),
            event_ids=frozenset(self.event_ids),
        )

    def _elapsed_seconds(self) -> float:
        started, last = self.state.started, self.state.last_event_at
        if started is None or last is None:
            return 0.0
        elapsed = (last - started.occurred_at.ToDatetime(tzinfo=UTC)).total_seconds()
        return max(elapsed, 0.0)

    def _started(self, event: pb.Event) -> None:
        # The first start defines the run; a repeated start (a retried request) adds nothing.
        if self.state.started is not None:
            return
        body = event.trajectory_started
        self.state = replace(
            self.state,
            task_id=body.task_id,
            started=event,
            budgets=Budgets.from_proto(body.budgets),
        )

    def _action(self, event: pb.Event) -> None:
        self.position_by_action_id[event.event_id] = len(self.steps)
        self.steps.append(Step(event.action_proposed.step_index, event))
        for guidance_id in event.action_proposed.delivered_guidance_ids:
            self.delivered[guidance_id] = None
        delivered = self.delivered
        self.pending_guidance = [g for g in self.pending_guidance if g.event_id not in delivered]
        # An observation recorded before its action (a replay out of order) pairs up now.
        for stray in self.strays:
            if stray.observation_recorded.action_id == event.event_id:
                self.strays.remove(stray)
                self.steps[-1] = replace(self.steps[-1], observation=stray)
                break

    def _observation(self, event: pb.Event) -> None:
        body = event.observation_recorded
        if body.tool_name == EVAL_TOOL:
            self.evals_used += 1
        if body.HasField("eval_score"):
            self._score(body.eval_score, last_eval=True)
        position = self.position_by_action_id.get(body.action_id)
        if position is None or self.steps[position].observed:
            self.strays.append(event)
            return
        self.steps[position] = replace(self.steps[position], observation=event)

    def _guidance(self, event: pb.Event) -> None:
        self.guidance.append(event)
        self.flagged.update(event.guidance_submitted.flagged_step_indices)
        # An action may list guidance the log shows later (a replay out of order).
        if event.event_id not in self.delivered:
            self.pending_guidance.append(event)

    def _summary_requested(self, event: pb.Event) -> None:
        answered = {summary.context_summarized.request_id for summary in self.summaries}
        if event.event_id not in answered:
            self.pending_requests.append(event)

    def _summarized(self, event: pb.Event) -> None:
        self.summaries.append(event)
        request_id = event.context_summarized.request_id
        self.pending_requests = [r for r in self.pending_requests if r.event_id != request_id]

    def _ended(self, event: pb.Event) -> None:
        # The latest end wins, as in the archive's read model.
        body = event.trajectory_ended
        final = body.final_score if body.HasField("final_score") else None
        self.state = replace(
            self.state,
            status=status_after_end(body.reason),
            ended=event,
            final_score=final,
        )
        for score in (final, body.best_score if body.HasField("best_score") else None):
            if score is not None:
                self._score(score, last_eval=False)

    def _cancelled(self, event: pb.Event) -> None:
        # A request after the end changes nothing: the run is already over.
        if not self.state.is_over:
            self.state = replace(self.state, cancel_requested=True)

    def _score(self, score: float, *, last_eval: bool) -> None:
        best = self.state.best_score
        self.state = replace(
            self.state,
            best_score=score if best is None else max(best, score),
            last_eval_score=score if last_eval else self.state.last_eval_score,
        )
