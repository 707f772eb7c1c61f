"""The live state of one trajectory inside the sandbox service."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from services.sandbox.sessions import Sessions
from services.sandbox.workspace import Workspace
from services.tasks.packs import TaskInstance, TaskPack


@dataclass(frozen=True)
class RuntimeBudgets:
    """The limits the trajectory started with (0 means none)."""

    max_steps: int
    max_seconds: int
    max_evals: int


@dataclass
class TrajectoryRuntime:
    """Workspace, sessions, budgets used and the guidance that may wake a sleep."""

    trajectory_id: str
    pack: TaskPack
    # The pack's instance this trajectory works on: its workspace and hidden labels.
    instance: TaskInstance
    workspace: Workspace
    sessions: Sessions
    budgets: RuntimeBudgets
    # Wall clock (epoch seconds) of the TrajectoryStarted, so restarts keep the same deadline.
    started_at: float
    evals_used: int = 0
    best_score: float | None = None
    last_tool: str = ""
    ended: bool = False
    guidance_received: set[str] = field(default_factory=set)
    guidance_delivered: set[str] = field(default_factory=set)
    guidance_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    # One action at a time per trajectory, whatever the bus does.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def elapsed_seconds(self) -> float:
        """Seconds since the trajectory started."""
        return time.time() - self.started_at

    @property
    def seconds_left(self) -> int:
        """Wall-clock seconds left (a large number when unlimited)."""
        if not self.budgets.max_seconds:
            return 2**31
        return max(0, int(self.budgets.max_seconds - self.elapsed_seconds))

    @property
    def evals_left(self) -> int:
        """Agent-called evaluations left."""
        return max(0, self.budgets.max_evals - self.evals_used)

    def pending_guidance(self) -> bool:
        """Whether guidance arrived that no prompt has delivered yet."""
        return bool(self.guidance_received - self.guidance_delivered)

    def note_guidance(self, guidance_id: str) -> None:
        """A guidance_submitted arrived: wake a sleep."""
        self.guidance_received.add(guidance_id)
        self.guidance_arrived.set()
