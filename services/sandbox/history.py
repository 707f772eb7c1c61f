"""What the archive already knows: imported or replayed history is never run again."""

from __future__ import annotations

from typing import Protocol

from services.eventlog.archive import EventArchive


class TrajectoryHistory(Protocol):
    """Whether a trajectory already ended before this sandbox saw its start."""

    async def has_ended(self, trajectory_id: str) -> bool: ...


class ArchiveHistory:
    """Asks the archive's read model: an imported, finished trajectory is history, not work."""

    def __init__(self, archive: EventArchive) -> None:
        self._archive = archive

    async def has_ended(self, trajectory_id: str) -> bool:
        row = await self._archive.trajectory(trajectory_id)
        return row is not None and row.status != "running"


class NoHistory:
    """No archive (tests, a sandbox run alone): every start is new work."""

    async def has_ended(self, trajectory_id: str) -> bool:
        return False
