"""The trajectories the live judge follows: their folded state and which actions it judged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from apollo.v1 import events_pb2 as pb
from services.judge.ruleset import Ruleset
from services.judge.steps import StepView, StepViews
from services.judge.verdicts import ActionVerdict, ready_positions
from services.trajectory.fold import LOG_KINDS, apply, fold
from services.trajectory.state import Trajectory


@dataclass(frozen=True, slots=True)
class DueAction:
    """An action whose lookahead window is in and that lacks a verdict, in its trajectory."""

    action: pb.Event
    view: StepView
    position: int


@dataclass(frozen=True, slots=True)
class DueVerdict:
    """A verdict ready to publish, and the ActionProposed it is about."""

    action: pb.Event
    verdict: ActionVerdict


@dataclass(slots=True)
class _Followed:
    state: Trajectory
    # Action ids whose verdict under the active ruleset is published.
    judged: set[str] = field(default_factory=set)
    views: StepViews = field(default_factory=StepViews)
    # Every action before this position is judged.
    frontier: int = 0

    @property
    def pending(self) -> int:
        return len(self.state.steps) - len(self.judged)


class FollowedTrajectories:
    """Folds each trajectory's events and says which of its actions are due for a verdict."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self._followed: dict[str, _Followed] = {}
        # Over and fully judged: a late redelivery must not start them afresh.
        self._done: set[str] = set()

    def __len__(self) -> int:
        return len(self._followed)

    def knows(self, trajectory_id: str) -> bool:
        """Whether the trajectory is followed or already done with."""
        return trajectory_id in self._followed or trajectory_id in self._done

    def restore(self, trajectory_id: str, recorded: Iterable[pb.Event]) -> int:
        """Follow a trajectory from its recorded events (its log, and the verdicts already
        given); returns its pending actions."""
        recorded = list(recorded)
        log = [event for event in recorded if event.WhichOneof("body") in LOG_KINDS]
        judged = {
            event.action_judged.action_id
            for event in recorded
            if event.HasField("action_judged")
            and event.action_judged.ruleset_version == self.ruleset.version
        }
        followed = _Followed(fold(log, trajectory_id), judged)
        self._followed[trajectory_id] = followed
        self._forget_if_done(trajectory_id)
        return followed.pending

    def apply(self, event: pb.Event) -> int | None:
        """Fold one log event; the change in pending actions, None if the trajectory is done."""
        trajectory_id = event.trajectory_id
        if not trajectory_id or trajectory_id in self._done:
            return None
        followed = self._followed.setdefault(
            trajectory_id, _Followed(Trajectory(trajectory_id=trajectory_id))
        )
        before = followed.pending
        followed.state = apply(followed.state, event)
        return followed.pending - before

    def due(self, trajectory_id: str) -> list[DueAction]:
        """The actions whose lookahead window is in and that lack a verdict."""
        followed = self._followed.get(trajectory_id)
        if followed is None:
            return []
        state = followed.state
        # Only events that can make an action ready (a proposal, an observation, the end)
        # settle steps, and each settles only the steps that changed since the last one.
        view = followed.views.settled(state)
        ready = ready_positions(view, self.ruleset.lookahead)
        judged = followed.judged
        while followed.frontier < ready.stop and view.steps[followed.frontier].action_id in judged:
            followed.frontier += 1
        return [
            DueAction(state.steps[position].action, view, position)
            for position in range(followed.frontier, ready.stop)
            if view.steps[position].action_id not in judged
        ]

    def record_published(self, trajectory_id: str, action_ids: Iterable[str]) -> int:
        """Record published verdicts (maybe none); returns how many were new. Forgets the
        trajectory once it is over with every action judged."""
        followed = self._followed[trajectory_id]
        before = len(followed.judged)
        followed.judged.update(action_ids)
        self._forget_if_done(trajectory_id)
        return len(followed.judged) - before

    def _forget_if_done(self, trajectory_id: str) -> None:
        followed = self._followed[trajectory_id]
        if followed.state.is_over and followed.pending == 0:
            del self._followed[trajectory_id]
            self._done.add(trajectory_id)
