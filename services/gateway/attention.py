"""Attention time: how long each annotator looked at each trajectory (the human cost)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

# One heartbeat may claim at most this much time, so a client cannot inflate the cost.
MAX_HEARTBEAT_SECONDS = 60.0


@dataclass(frozen=True)
class AttentionTotal:
    """Seconds one annotator spent on one trajectory."""

    annotator: str
    trajectory_id: str
    seconds: float


class AttentionLedger(Protocol):
    """Accumulates attention seconds per (annotator, trajectory)."""

    async def add(self, annotator: str, trajectory_id: str, seconds: float) -> None:
        """Add seconds to the annotator's total on the trajectory."""

    async def totals(self) -> list[AttentionTotal]:
        """Every total, by annotator then trajectory."""


class InMemoryAttentionLedger:
    """Totals in a dict, for tests; follows the same contract as `PgAttentionLedger`."""

    def __init__(self) -> None:
        self._seconds: dict[tuple[str, str], float] = defaultdict(float)

    async def add(self, annotator: str, trajectory_id: str, seconds: float) -> None:
        """Add seconds to the annotator's total on the trajectory."""
        self._seconds[(annotator, trajectory_id)] += seconds

    async def totals(self) -> list[AttentionTotal]:
        """Every total, by annotator then trajectory."""
        return [AttentionTotal(a, t, s) for (a, t), s in sorted(self._seconds.items())]
