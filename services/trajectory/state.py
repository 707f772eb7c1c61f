"""The state of one trajectory, as folded from its events: frozen values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from apollo.v1 import events_pb2 as pb

# The tool whose observations consume the evaluation budget.
EVAL_TOOL = "eval"
# The tool that ends a run: once the sandbox accepted it, the trajectory is ending.
FINISH_TOOL = "finish"
# The TrajectoryStarted label naming the format a trajectory was imported from: an
# imported run is history recorded elsewhere, so no service ever executes it.
IMPORTED_FROM_LABEL = "imported_from"
# The TrajectoryStarted label of a checkpoint's evaluation run ("true"): as at test time
# in the paper, no human (simulated or not) may guide it.
EVALUATION_LABEL = "evaluation"


class TrajectoryStatus(StrEnum):
    """Where a trajectory stands; the archive's read model and the APIs use the same values."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Running out of steps or time is a normal end of a long task, not a failure.
# Any reason missing here (unspecified, or unknown to this build) counts as failed,
# because the sandbox could not say the run finished.
_STATUS_BY_END_REASON: dict[int, TrajectoryStatus] = {
    pb.END_REASON_FINISHED: TrajectoryStatus.FINISHED,
    pb.END_REASON_STEP_BUDGET: TrajectoryStatus.FINISHED,
    pb.END_REASON_TIME_BUDGET: TrajectoryStatus.FINISHED,
    pb.END_REASON_ERROR: TrajectoryStatus.FAILED,
    pb.END_REASON_CANCELLED: TrajectoryStatus.CANCELLED,
}


def status_after_end(reason: int) -> TrajectoryStatus:
    """The status a trajectory has once it ended for `reason` (a `pb.EndReason`)."""
    return _STATUS_BY_END_REASON.get(reason, TrajectoryStatus.FAILED)


@dataclass(frozen=True, slots=True)
class Budgets:
    """The limits a trajectory started with (0 means the task set none)."""

    max_steps: int
    max_seconds: int
    max_evals: int

    @classmethod
    def from_proto(cls, budgets: pb.Budgets) -> Budgets:
        """The limits of a `TrajectoryStarted.budgets` message."""
        return cls(budgets.max_steps, budgets.max_seconds, budgets.max_evals)


@dataclass(frozen=True, slots=True)
class BudgetUsage:
    """What a trajectory has used so far."""

    steps: int = 0
    evals: int = 0
    elapsed_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Step:
    """One agent step: the proposed action and, once the sandbox ran it, its observation.

    The events are the log's own messages, shared rather than copied: events are
    immutable facts, so nobody may mutate them after they were recorded.
    """

    index: int
    action: pb.Event
    observation: pb.Event | None = None

    @property
    def action_id(self) -> str:
        """The event_id of the ActionProposed."""
        return self.action.event_id

    @property
    def tool_name(self) -> str:
        """The called tool's name; "" for a null action (no valid tool call)."""
        proposed = self.action.action_proposed
        return proposed.tool_call.name if proposed.HasField("tool_call") else ""

    @property
    def is_null_action(self) -> bool:
        """Whether the model's answer yielded no valid tool call."""
        return self.action.action_proposed.HasField("parse_error")

    @property
    def observed(self) -> bool:
        """Whether the sandbox has recorded this action's observation."""
        return self.observation is not None


@dataclass(frozen=True, slots=True)
class Trajectory:
    """Everything the log says about one trajectory so far; built by `fold` and `apply`.

    Its sequences are read-only (tuples, or views that `fold` shares between successive
    states); none ever changes once the state was handed out.
    """

    trajectory_id: str = ""
    task_id: str = ""
    status: TrajectoryStatus = TrajectoryStatus.RUNNING
    # A cancellation asked for before the end; the sandbox then ends the run.
    cancel_requested: bool = False
    started: pb.Event | None = None
    ended: pb.Event | None = None
    steps: Sequence[Step] = ()
    # Observations whose action is not (yet) in the log, or that observe an action twice.
    stray_observations: Sequence[pb.Event] = ()
    # Every GuidanceSubmitted, in log order.
    guidance: Sequence[pb.Event] = ()
    # GuidanceSubmitted events no ActionProposed has delivered yet, in log order.
    pending_guidance: Sequence[pb.Event] = ()
    # Guidance event_ids in the order actions first delivered them, each once.
    delivered_guidance_ids: Sequence[str] = ()
    # Step indices annotators marked as wrong, sorted, each once.
    flagged_steps: Sequence[int] = ()
    # ContextSummarized events, in log order.
    summaries: Sequence[pb.Event] = ()
    # SummaryRequested events no ContextSummarized has answered yet.
    pending_summary_requests: Sequence[pb.Event] = ()
    budgets: Budgets | None = None
    used: BudgetUsage = BudgetUsage()
    last_eval_score: float | None = None
    # The best of every eval score and of the end's final and best scores.
    best_score: float | None = None
    final_score: float | None = None
    # The latest occurred_at of any event applied (the clocks of services may differ).
    last_event_at: datetime | None = None
    # Every event_id applied, so redelivered events are ignored.
    event_ids: AbstractSet[str] = field(default=frozenset(), repr=False)
    # Steps still waiting for their observation.
    unobserved_steps: int = 0
    # The highest step_index proposed so far (-1 before the first action).
    last_step_index: int = -1
    # The position in `steps` of the first action of each step index, so a window of steps
    # is found without a scan. Empty in a state built by hand.
    first_step_positions: Mapping[int, int] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False
    )
    # The fold's shared history this state is a view of, so `apply` can extend it in place.
    folding: object | None = field(default=None, compare=False, repr=False)

    @property
    def is_over(self) -> bool:
        """Whether a TrajectoryEnded was recorded."""
        return self.status is not TrajectoryStatus.RUNNING

    @property
    def imported(self) -> bool:
        """Whether the trajectory was imported, so no service may execute it."""
        return self.started is not None and is_imported(self.started.trajectory_started)

    @property
    def summary_pending(self) -> bool:
        """Whether a summary was requested and is not there yet."""
        return bool(self.pending_summary_requests)

    @property
    def latest_summary(self) -> pb.Event | None:
        """The newest ContextSummarized, which the current context window starts from."""
        return self.summaries[-1] if self.summaries else None

    @property
    def end_reason(self) -> int:
        """The `pb.EndReason` of the end (END_REASON_UNSPECIFIED while running)."""
        return self.ended.trajectory_ended.reason if self.ended else pb.END_REASON_UNSPECIFIED


def is_imported(started: pb.TrajectoryStarted) -> bool:
    """Whether the trajectory was imported (history to judge and train on, never to run)."""
    return IMPORTED_FROM_LABEL in started.labels


def is_evaluation(started: pb.TrajectoryStarted) -> bool:
    """Whether the trajectory evaluates a checkpoint, so it runs without guidance."""
    return started.labels.get(EVALUATION_LABEL) == "true"


def is_agent_turn(state: Trajectory) -> bool:
    """Whether the policy may propose the next action now."""
    return (
        state.started is not None
        and not state.imported
        and state.status is TrajectoryStatus.RUNNING
        and not state.cancel_requested
        and not state.summary_pending
        and state.unobserved_steps == 0
        and not _finishing(state)
    )


def _finishing(state: Trajectory) -> bool:
    # The sandbox publishes a finish's observation and the TrajectoryEnded together; a turn
    # taken between the two would propose a step after the end.
    last = state.steps[-1] if state.steps else None
    return (
        last is not None
        and last.tool_name == FINISH_TOOL
        and last.observation is not None
        and last.observation.observation_recorded.success
    )


def next_step_index(state: Trajectory) -> int:
    """The step_index the next ActionProposed carries."""
    return state.last_step_index + 1
