"""The judge's handlers: every log event is folded; those that can complete an action's
lookahead window (a proposal, an observation, the end) also publish what became due."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apollo.v1 import events_pb2 as pb
from services.runtime.routing import EventRoutes
from services.trajectory.fold import LOG_KINDS

if TYPE_CHECKING:
    from services.judge.service import JudgeService

# Guidance arrives before the proposal that delivers it, which then completes the window.
WINDOW_KINDS = frozenset({"action_proposed", "observation_recorded", "trajectory_ended"})


async def fold_event(judge: JudgeService, event: pb.Event) -> None:
    """Fold an event that changes what the rules see but completes no window."""
    await judge.fold(event)


async def judge_when_due(judge: JudgeService, event: pb.Event) -> None:
    """Fold the event, then publish the verdicts it made due."""
    if await judge.fold(event):
        await judge.judge_due(event)


ROUTES: EventRoutes[JudgeService] = EventRoutes(
    {kind: judge_when_due if kind in WINDOW_KINDS else fold_event for kind in sorted(LOG_KINDS)}
)
