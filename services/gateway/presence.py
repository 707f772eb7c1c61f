"""Who is watching what: open live streams per user and trajectory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from services.gateway import metrics

# The key of a stream that follows the whole list rather than one trajectory.
LIST = ""


class Presence:
    """Counts open streams per (trajectory, user); a user may have several tabs open."""

    def __init__(self) -> None:
        self._open: Counter[tuple[str, str]] = Counter()

    @contextmanager
    def watching(self, trajectory_id: str, user: str) -> Iterator[None]:
        """Count the user as watching `trajectory_id` (LIST for the list) while inside."""
        key = (trajectory_id, user)
        self._open[key] += 1
        metrics.WATCHERS.inc()
        try:
            yield
        finally:
            metrics.WATCHERS.dec()
            self._open[key] -= 1
            if self._open[key] <= 0:
                del self._open[key]

    def watchers(self, trajectory_id: str) -> list[str]:
        """The users watching one trajectory, by name."""
        return sorted({user for (tid, user) in self._open if tid == trajectory_id})

    def by_trajectory(self) -> dict[str, list[str]]:
        """Every watched trajectory and its watchers (the list itself excluded)."""
        watched: dict[str, set[str]] = {}
        for tid, user in self._open:
            if tid != LIST:
                watched.setdefault(tid, set()).add(user)
        return {tid: sorted(users) for tid, users in sorted(watched.items())}
