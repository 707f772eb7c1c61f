"""The states of many trajectories, kept up to date one event at a time (no I/O)."""

from __future__ import annotations

from apollo.v1 import events_pb2 as pb
from services.trajectory.fold import apply
from services.trajectory.state import Trajectory


class TrajectoryTracker:
    """Folds each event into its trajectory's state; forgets trajectories once over."""

    def __init__(self) -> None:
        self._states: dict[str, Trajectory] = {}
        # Ids of forgotten trajectories, so a late event does not start them afresh.
        self._forgotten: set[str] = set()

    def __len__(self) -> int:
        return len(self._states)

    def apply(self, event: pb.Event) -> Trajectory | None:
        """The state after `event`; None for events of no (or a forgotten) trajectory."""
        trajectory_id = event.trajectory_id
        if not trajectory_id or trajectory_id in self._forgotten:
            return None
        before = self._states.get(trajectory_id) or Trajectory(trajectory_id=trajectory_id)
        after = apply(before, event)
        self._states[trajectory_id] = after
        return after

    def follow(self, event: pb.Event) -> Trajectory | None:
        """The state after `event` while its trajectory runs; None once over or imported (it is
        forgotten: an imported trajectory is history, never run)."""
        state = self.apply(event)
        if state is not None and (state.is_over or state.imported):
            self.forget(state.trajectory_id)
            return None
        return state

    def get(self, trajectory_id: str) -> Trajectory | None:
        """The current state of a tracked trajectory."""
        return self._states.get(trajectory_id)

    def forget(self, trajectory_id: str) -> None:
        """Drop a trajectory's state for good (it is over)."""
        self._states.pop(trajectory_id, None)
        self._forgotten.add(trajectory_id)
