"""The summarizer's handlers: every event of the trajectory log is folded; a pending request
is answered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apollo.v1 import events_pb2 as pb
from services.runtime.routing import EventRoutes
from services.trajectory.fold import LOG_KINDS

if TYPE_CHECKING:
    from services.summarizer.service import SummarizerService


async def on_trajectory_event(summarizer: SummarizerService, event: pb.Event) -> None:
    """Fold one event; while its trajectory runs, answer its pending requests."""
    state = summarizer.tracker.follow(event)
    if state is None:
        return
    for request in state.pending_summary_requests:
        summarizer.answer(state.trajectory_id, request)


# A SummaryRequested is answered from the whole window before it, so every kind is folded;
# any event also retries a request whose answer failed.
ROUTES: EventRoutes[SummarizerService] = EventRoutes(
    {kind: on_trajectory_event for kind in sorted(LOG_KINDS)}
)
