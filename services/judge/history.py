"""Where the judge finds a trajectory's earlier events when it meets one mid-way."""

from __future__ import annotations

from typing import Protocol

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import EventArchive


class TrajectoryHistory(Protocol):
    """A trajectory's events recorded so far: its log and the verdicts on it."""

    async def events(self, trajectory_id: str) -> list[pb.Event]: ...


class ArchiveHistory:
    """Reads the archive, which holds every topic's events (the recorder archives them all)."""

    def __init__(self, archive: EventArchive) -> None:
        self._archive = archive

    async def events(self, trajectory_id: str) -> list[pb.Event]:
        return [record.event for record in await self._archive.events(trajectory_id)]


class NoHistory:
    """No archive (a judge run alone on a fresh log): every trajectory starts from its start."""

    async def events(self, trajectory_id: str) -> list[pb.Event]:
        return []
