"""The pure trajectory model: events folded into state, shared by every service (no I/O)."""

from services.trajectory.fold import apply, fold
from services.trajectory.state import (
    Budgets,
    BudgetUsage,
    Step,
    Trajectory,
    TrajectoryStatus,
    is_agent_turn,
    next_step_index,
    status_after_end,
)

__all__ = [
    "BudgetUsage",
    "Budgets",
    "Step",
    "Trajectory",
    "TrajectoryStatus",
    "apply",
    "fold",
    "is_agent_turn",
    "next_step_index",
    "status_after_end",
]
