"""Drift signals: when a running trajectory needs a human to look at it (pure).

Each check looks back over at most its own threshold of steps, so re-evaluating a
trajectory after every event costs the same at step 4,000 as at step 10.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from services.gateway.workspace_view import FILE_CHANGING_TOOLS, sessions
from services.trajectory import Step, Trajectory
from services.trajectory.state import is_evaluation

_EVAL_TOOL = "eval"
_WAITING_TOOLS = frozenset({"sleep"})


@dataclass(frozen=True)
class DriftRules:
    """Thresholds of the drift signals."""

    # Consecutive observed steps with success=false.
    failing_streak: int = 3
    # Consecutive steps with the same tool and arguments.
    identical_streak: int = 3
    # Steps since the last successful file change or eval...
    no_progress_steps: int = 20
    # ...or this share of the step budget when that is fewer (at least 2): a short run has
    # no room for 20 idle steps.
    no_progress_budget_share: float = 0.25
    # Seconds without any event while running.
    stall_seconds: float = 900.0
    # Share of a budget (steps, time, evals) that counts as nearly spent.
    budget_fraction: float = 0.9


def attention_reasons(state: Trajectory, now: datetime, rules: DriftRules) -> list[str]:
    """Why the trajectory needs attention; [] when it does not (or is over, or is an evaluation)."""
    if state.is_over or _unguided(state):
        return []
    checks = (_failing, _identical, _no_progress, _stalled, _idle_sessions, _budget)
    return [reason for check in checks for reason in check(state, now, rules)]


def _unguided(state: Trajectory) -> bool:
    # An evaluation measures the checkpoint alone: calling a human to it would steer it.
    return state.started is not None and is_evaluation(state.started.trajectory_started)


def _failing(state: Trajectory, now: datetime, rules: DriftRules) -> list[str]:
    # Only the newest steps can lack their observation, so this stops after a few.
    observed = (s for s in reversed(state.steps) if s.observation is not None)
    tail = list(islice(observed, rules.failing_streak))
    if len(tail) == rules.failing_streak and not any(_succeeded(s) for s in tail):
        return [f"{rules.failing_streak} failing actions in a row"]
    return []


def _succeeded(step: Step) -> bool:
    return step.observation is not None and step.observation.observation_recorded.success


def _call(step: Step) -> tuple[str, str] | None:
    proposed = step.action.action_proposed
    if not proposed.HasField("tool_call"):
        return None
    return proposed.tool_call.name, proposed.tool_call.arguments_json


def _identical(state: Trajectory, now: datetime, rules: DriftRules) -> list[str]:
    tail = state.steps[-rules.identical_streak :]
    calls = {_call(s) for s in tail}
    if len(tail) == rules.identical_streak and len(calls) == 1 and None not in calls:
        return [f"the same {tail[-1].tool_name} call {rules.identical_streak} times in a row"]
    return []


def _progressed(step: Step) -> bool:
    # An eval refused (none left) is no progress, any more than a failed edit.
    progressing = step.tool_name == _EVAL_TOOL or step.tool_name in FILE_CHANGING_TOOLS
    return progressing and _succeeded(step)


def _no_progress_horizon(state: Trajectory, rules: DriftRules) -> int:
    budget = state.budgets.max_steps if state.budgets is not None else 0
    if budget <= 0:
        return rules.no_progress_steps
    share = max(2, math.ceil(rules.no_progress_budget_share * budget))
    return min(rules.no_progress_steps, share)


def _no_progress(state: Trajectory, now: datetime, rules: DriftRules) -> list[str]:
    horizon = _no_progress_horizon(state, rules)
    if len(state.steps) < horizon:
        return []
    if any(_progressed(step) for step in _newest(state, horizon)):
        return []
    return [f"no file change or eval for {horizon} steps"]


def _newest(state: Trajectory, count: int) -> Iterator[Step]:
    """The newest `count` steps, newest first."""
    return islice(reversed(state.steps), count)


def _stalled(state: Trajectory, now: datetime, rules: DriftRules) -> list[str]:
    if state.last_event_at is None:
        return []
    quiet = (now - state.last_event_at).total_seconds()
    if quiet >= rules.stall_seconds:
        return [f"no activity for {quiet:.0f} s"]
    return []


def _idle_sessions(state: Trajectory, now: datetime, rules: DriftRules) -> list[str]:
    # Waiting makes sense only while a command runs; sleeping beside idle sessions is drift.
    # Sessions are derived only when the agent waits, so each event costs O(1) otherwise.
    if not state.steps or state.steps[-1].tool_name not in _WAITING_TOOLS:
        return []
    if all(view.idle for view in sessions(state)):
        return ["waiting while every session is idle"]
    return []


def _budget(state: Trajectory, now: datetime, rules: DriftRules) -> list[str]:
    budgets = state.budgets
    if budgets is None or state.started is None:
        return []
    elapsed = (now - state.started.occurred_at.ToDatetime(tzinfo=now.tzinfo)).total_seconds()
    used = (
        ("steps", state.used.steps, budgets.max_steps),
        ("time", elapsed, budgets.max_seconds),
        ("evals", state.used.evals, budgets.max_evals),
    )
    return [
        f"{name} budget {spent / limit:.0%} spent"
        for name, spent, limit in used
        if limit > 0 and spent >= rules.budget_fraction * limit
    ]
