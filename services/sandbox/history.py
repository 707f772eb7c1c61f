"""What the archive already knows: imported or replayed history is never run again, and
what a dead broker lost is published again."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from services.eventlog.archive import EventArchive


class TrajectoryHistory(Protocol):
    """Whether a trajectory already ended before this sandbox saw its start."""

    async def has_ended(self, trajectory_id: str) -> bool: ...

    async def archived(self, event_ids: Collection[str]) -> set[str]:
        """Which of these events the archive holds."""


class ArchiveHistory:
    """Asks the archive's read model: an imported, finished trajectory is history, not work."""

    def __init__(self, archive: EventArchive) -> None:
        self._archive = archive

    async def has_ended(self, trajectory_id: str) -> bool:
        row = await self._archive.trajectory(trajectory_id)
        return row is not None and row.status != "running"

    async def archived(self, event_ids: Collection[str]) -> set[str]:
        """Which of these events the archive holds."""
        return await self._archive.has(event_ids)


class NoHistory:
    """No archive (tests, a sandbox run alone): every start is new work."""

    async def has_ended(self, trajectory_id: str) -> bool:
        return False

    async def archived(self, event_ids: Collection[str]) -> set[str]:
        """With nothing to compare against, what was published counts as kept."""
        return set(event_ids)
