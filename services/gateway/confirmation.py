"""Answering a command only once its event is archived: what the broker acknowledged but
the recorder had not archived yet is lost if the broker dies, so only the archive counts."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from services.eventlog.archive import EventArchive

# The recorder archives within milliseconds; this long only while the stack restarts.
ARCHIVED_TIMEOUT_S = 10.0
POLL_S = 0.01


class NotArchivedYet(TimeoutError):
    """Published, but not archived in time: the stack may be restarting. Retry the command."""


@dataclass(frozen=True)
class ArchivedConfirmation:
    """Waits until the archive holds an event the gateway published."""

    archive: EventArchive
    timeout_s: float = ARCHIVED_TIMEOUT_S

    async def wait(self, event_id: str) -> None:
        """Return once `event_id` is archived; raise `NotArchivedYet` after the timeout."""
        deadline = time.monotonic() + self.timeout_s
        while not await self.archive.has([event_id]):
            if time.monotonic() > deadline:
                raise NotArchivedYet(
                    f"event {event_id} is not archived after {self.timeout_s:.0f} s; the "
                    "stack may be restarting: retry"
                )
            await asyncio.sleep(POLL_S)
