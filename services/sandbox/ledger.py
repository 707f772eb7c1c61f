"""The execution ledger: what makes each action run at most once, across restarts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Protocol


class ActionState(enum.StrEnum):
    """How far an action got."""

    # Recorded before the tool runs: if the service dies now, the action is not re-run.
    STARTED = "started"
    # The resulting events are stored; publishing them may still be pending.
    COMPLETED = "completed"
    PUBLISHED = "published"


@dataclass(frozen=True)
class ActionRecord:
    """One action's entry in the ledger."""

    action_id: str
    trajectory_id: str
    step_index: int
    tool: str
    state: ActionState
    # The serialized events the action produced (set once completed).
    events: tuple[bytes, ...] = ()
    eval_score: float | None = None


@dataclass(frozen=True)
class TrajectoryRecord:
    """What the sandbox needs to rebuild a trajectory's runtime after a restart."""

    trajectory_id: str
    task_id: str
    max_steps: int
    max_seconds: int
    max_evals: int
    # Epoch seconds of the TrajectoryStarted.
    started_at: float
    ended: bool = False
    # The task family's instance (TrajectoryStarted.task_seed).
    task_seed: int = 0


class ExecutionLedger(Protocol):
    """Actions by event id and the trajectories they belong to."""

    async def start(self, record: ActionRecord) -> bool:
        """Record an action as started; False when the ledger already knows it."""

    async def get(self, action_id: str) -> ActionRecord | None:
        """The entry of an action, if any."""

    async def complete(self, action_id: str, events: list[bytes], eval_score: float | None) -> None:
        """Store the action's events: it will never run again."""

    async def mark_published(self, action_id: str) -> None:
        """The action's events are on the bus."""

    async def unfinished(self) -> list[ActionRecord]:
        """Actions started or completed but not published, oldest first."""

    async def newest_published(self, limit: int) -> list[ActionRecord]:
        """The `limit` actions published last, oldest first."""

    async def remember_trajectory(self, record: TrajectoryRecord) -> None:
        """Keep a trajectory's start (first write wins)."""

    async def trajectory(self, trajectory_id: str) -> TrajectoryRecord | None:
        """A remembered trajectory."""

    async def mark_ended(self, trajectory_id: str) -> None:
        """The trajectory is over."""

    async def eval_scores(self, trajectory_id: str) -> list[float]:
        """Scores of the trajectory's completed agent-called evaluations."""


@dataclass
class InMemoryExecutionLedger:
    """The ledger in dicts: for tests and single-run tools (`apollo tasks check`)."""

    _actions: dict[str, ActionRecord] = field(default_factory=dict)
    _trajectories: dict[str, TrajectoryRecord] = field(default_factory=dict)

    async def start(self, record: ActionRecord) -> bool:
        """Record an action as started; False when the ledger already knows it."""
        if record.action_id in self._actions:
            return False
        self._actions[record.action_id] = replace(record, state=ActionState.STARTED)
        return True

    async def get(self, action_id: str) -> ActionRecord | None:
        """The entry of an action, if any."""
        return self._actions.get(action_id)

    async def complete(self, action_id: str, events: list[bytes], eval_score: float | None) -> None:
        """Store the action's events: it will never run again."""
        self._actions[action_id] = replace(
            self._actions[action_id],
            state=ActionState.COMPLETED,
            events=tuple(events),
            eval_score=eval_score,
        )

    async def mark_published(self, action_id: str) -> None:
        """The action's events are on the bus."""
        record = self._actions[action_id]
        self._actions[action_id] = replace(record, state=ActionState.PUBLISHED)

    async def unfinished(self) -> list[ActionRecord]:
        """Actions started or completed but not published, oldest first."""
        return [r for r in self._actions.values() if r.state is not ActionState.PUBLISHED]

    async def newest_published(self, limit: int) -> list[ActionRecord]:
        """The `limit` actions published last, oldest first (dicts keep insertion order)."""
        published = [r for r in self._actions.values() if r.state is ActionState.PUBLISHED]
        return published[-limit:] if limit > 0 else []

    async def remember_trajectory(self, record: TrajectoryRecord) -> None:
        """Keep a trajectory's start (first write wins)."""
        self._trajectories.setdefault(record.trajectory_id, record)

    async def trajectory(self, trajectory_id: str) -> TrajectoryRecord | None:
        """A remembered trajectory."""
        return self._trajectories.get(trajectory_id)

    async def mark_ended(self, trajectory_id: str) -> None:
        """The trajectory is over."""
        if trajectory_id in self._trajectories:
            self._trajectories[trajectory_id] = replace(
                self._trajectories[trajectory_id], ended=True
            )

    async def eval_scores(self, trajectory_id: str) -> list[float]:
        """Scores of the trajectory's completed agent-called evaluations."""
        return [
            r.eval_score
            for r in self._actions.values()
            if r.trajectory_id == trajectory_id and r.tool == "eval" and r.eval_score is not None
        ]
