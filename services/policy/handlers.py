"""The policy's handlers: every event of the trajectory log is folded, and may make a turn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apollo.v1 import events_pb2 as pb
from services.policy import metrics
from services.runtime.routing import EventRoutes
from services.trajectory.fold import LOG_KINDS

if TYPE_CHECKING:
    from services.policy.service import PolicyService


async def on_trajectory_event(policy: PolicyService, event: pb.Event) -> None:
    """Fold one event; start a turn it may have made, or let go of a trajectory that is over."""
    state = policy.tracker.follow(event)
    if state is None:
        policy.let_go(event.trajectory_id)
    elif policy.settings.shard.owns(state.trajectory_id):
        policy.kick(state.trajectory_id)
    metrics.TRAJECTORIES.set(len(policy.tracker))


# The prompt is rendered from the whole log (started, observations, guidance, summaries, and
# the policy's own proposals and requests coming back), so every kind of it is folded.
ROUTES: EventRoutes[PolicyService] = EventRoutes(
    {kind: on_trajectory_event for kind in sorted(LOG_KINDS)}
)
