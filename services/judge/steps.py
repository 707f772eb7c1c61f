"""The judge's view of a trajectory: per action its call, its observation, the guidance after it."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from types import MappingProxyType
from typing import Protocol, TypeVar

from apollo.v1 import events_pb2 as pb
from services.trajectory import Step, Trajectory, fold

# The arguments that name what an action works on, and so what later actions depend on.
RESOURCE_ARGUMENTS = ("path", "session")

_Key = TypeVar("_Key", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Observation:
    """What the sandbox recorded for one action."""

    success: bool
    message: str
    error_message: str
    # The observation JSON's fields (success, message, error_message and type-specific ones).
    fields: Mapping[str, object]
    eval_score: float | None

    @classmethod
    def from_event(cls, event: pb.Event) -> Observation:
        """The observation of an ObservationRecorded event."""
        body = event.observation_recorded
        try:
            fields = json.loads(body.observation_json or "{}")
        except ValueError:
            fields = {}
        return cls(
            success=body.success,
            message=body.message,
            error_message=body.error_message,
            fields=MappingProxyType(fields if isinstance(fields, dict) else {}),
            eval_score=body.eval_score if body.HasField("eval_score") else None,
        )

    @property
    def content(self) -> str:
        """The observation's `content` field (file lines, listings), "" when it has none."""
        content = self.fields.get("content", "")
        return content if isinstance(content, str) else ""


@dataclass(frozen=True, slots=True)
class Guidance:
    """A `<real_user>` message (or a flag-only one) that arrived after an action."""

    guidance_id: str
    text: str
    kind: int
    flagged_step_indices: tuple[int, ...]

    @classmethod
    def from_event(cls, event: pb.Event) -> Guidance:
        """The guidance of a GuidanceSubmitted event."""
        body = event.guidance_submitted
        return cls(event.event_id, body.text, body.kind, tuple(body.flagged_step_indices))

    @property
    def is_correction(self) -> bool:
        """Whether the annotator gave it as a correction."""
        return self.kind == pb.GUIDANCE_KIND_CORRECTION


@dataclass(frozen=True, slots=True)
class JudgedStep:
    """One action as the rules see it."""

    index: int
    action_id: str
    tool: str
    # The parsed arguments; None for a null action or arguments that are not a JSON object.
    arguments: Mapping[str, object] | None
    # "kind: message" of the parse error of a null action, else "".
    parse_error: str
    assistant_text: str
    observation: Observation | None
    # The (argument, value) pairs naming the files and sessions this action works on.
    resources: tuple[tuple[str, str], ...] = ()
    # Guidance that arrived after this action and before the next one, in log order.
    guidance_after: tuple[Guidance, ...] = ()

    @property
    def succeeded(self) -> bool:
        """Whether the sandbox ran the action and reported success."""
        return self.observation is not None and self.observation.success

    def argument(self, name: str) -> str:
        """A string argument, "" when absent or not a string."""
        value = (self.arguments or {}).get(name)
        return value if isinstance(value, str) else ""


class StepIndex(Protocol):
    """What a rule kind derives from a view's steps, built one step at a time in order, so
    a view that grows extends it instead of building it again."""

    def add(self, view: StepView, position: int) -> None:
        """Take in the step at `position`; every earlier step is already in."""


_Index = TypeVar("_Index", bound=StepIndex)


@dataclass(eq=False)
class StepView:
    """The steps of one trajectory, in order, and whether it has ended.

    A view only grows, by steps that are final (`StepViews.settled`), so what was derived
    from its first steps stays true: its indexes are extended, never rebuilt, and a
    judging pass keeps what it worked out (`memo`) for the next action.
    """

    steps: list[JudgedStep]
    ended: bool
    # The index of each (factory, key), and how many steps it has taken in.
    _indexes: dict = field(default_factory=dict, init=False, repr=False)
    # What judging passes over this view remember between actions.
    memo: dict = field(default_factory=dict, init=False, repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StepView):
            return NotImplemented
        return (self.steps, self.ended) == (other.steps, other.ended)

    __hash__ = None  # type: ignore[assignment]

    def extend(self, steps: Iterable[JudgedStep], ended: bool) -> None:
        """Append final steps (and say whether the trajectory has ended)."""
        self.steps.extend(steps)
        self.ended = ended

    def index(self, factory: Callable[[_Key], _Index], key: _Key) -> _Index:
        """The index `factory(key)` (e.g. of a rule) over every step of the view."""
        entry = self._indexes.get((factory, key))
        if entry is None:
            entry = self._indexes[factory, key] = [factory(key), 0]
        built, covered = entry
        for position in range(covered, len(self.steps)):
            built.add(self, position)
        entry[1] = len(self.steps)
        return built

    @property
    def guided_positions(self) -> Sequence[int]:
        """The positions of the steps that guidance arrived after, in order."""
        return self.index(_GuidedPositions, None).positions

    @property
    def positions_by_resource(self) -> Mapping[tuple[str, str], Sequence[int]]:
        """For each (argument, value) resource, the positions of the steps naming it, in order."""
        return self.index(_ResourcePositions, None).positions


class _GuidedPositions:
    def __init__(self, _: None) -> None:
        self.positions: list[int] = []

    def add(self, view: StepView, position: int) -> None:
        if view.steps[position].guidance_after:
            self.positions.append(position)


class _ResourcePositions:
    def __init__(self, _: None) -> None:
        self.positions: dict[tuple[str, str], list[int]] = {}

    def add(self, view: StepView, position: int) -> None:
        for resource in view.steps[position].resources:
            self.positions.setdefault(resource, []).append(position)


def step_view(trajectory: Trajectory, start: int = 0) -> StepView:
    """The judge's view of a folded trajectory (of its steps from position `start` on)."""
    guidance = {event.event_id: event for event in trajectory.guidance}
    steps = [trajectory.steps[position] for position in range(start, len(trajectory.steps))]
    judged = []
    for step, following in pairwise(steps):
        arrived = following.action.action_proposed.delivered_guidance_ids
        after = [guidance[gid] for gid in arrived if gid in guidance]
        judged.append(_judged_step(step, tuple(Guidance.from_event(event) for event in after)))
    if steps:
        # Nothing delivered it yet: it arrived after the newest action.
        pending = tuple(Guidance.from_event(event) for event in trajectory.pending_guidance)
        judged.append(_judged_step(steps[-1], pending))
    return StepView(judged, trajectory.is_over)


class StepViews:
    """The view of one growing trajectory's settled steps, grown as the trajectory is.

    A step is settled once it is observed and the next action (which names the guidance
    that came after it) is in: nothing later changes it. Once the trajectory is over every
    step is. So each call builds only the newly settled steps, and the view's indexes and
    judging memos carry over: following step 4,000 costs what following step 10 does.
    """

    def __init__(self) -> None:
        self._view = StepView([], ended=False)

    def settled(self, trajectory: Trajectory) -> StepView:
        """The settled steps of `trajectory` (all of them once it is over)."""
        steps = trajectory.steps
        view = self._view
        if not _grows_into(view, steps):
            # The views are of one trajectory's successive states, but stay exact for any.
            view = self._view = StepView([], ended=False)
        if view.ended:
            return view
        texts: dict[str, pb.Event] | None = None
        while len(view.steps) < len(steps) - 1:
            step, following = steps[len(view.steps)], steps[len(view.steps) + 1]
            arrived = following.action.action_proposed.delivered_guidance_ids
            if arrived and texts is None:
                texts = {event.event_id: event for event in trajectory.guidance}
            if step.observation is None or any(gid not in (texts or {}) for gid in arrived):
                break
            after = tuple(Guidance.from_event(texts[gid]) for gid in arrived) if arrived else ()
            view.steps.append(_judged_step(step, after))
        if trajectory.is_over:
            view.extend(step_view(trajectory, start=len(view.steps)).steps, ended=True)
        return view


def _grows_into(view: StepView, steps: Sequence[Step]) -> bool:
    """Whether `steps` extend the view's (its last step is theirs at the same position)."""
    taken = len(view.steps)
    if taken > len(steps):
        return False
    return taken == 0 or steps[taken - 1].action_id == view.steps[-1].action_id


def step_view_of_events(events: Iterable[pb.Event]) -> StepView:
    """The judge's view of one trajectory's events in log order."""
    return step_view(fold(events))


def _judged_step(step: Step, guidance_after: tuple[Guidance, ...]) -> JudgedStep:
    proposed = step.action.action_proposed
    arguments: Mapping[str, object] | None = None
    parse_error = ""
    if proposed.HasField("tool_call"):
        try:
            parsed = json.loads(proposed.tool_call.arguments_json or "{}")
        except ValueError:
            parsed = None
        arguments = MappingProxyType(parsed) if isinstance(parsed, dict) else None
    else:
        error = proposed.parse_error
        parse_error = ": ".join(
            part for part in (error.kind or "no_tool_call", error.message) if part
        )
    return JudgedStep(
        index=step.index,
        action_id=step.action_id,
        tool=step.tool_name,
        arguments=arguments,
        parse_error=parse_error,
        assistant_text=proposed.assistant_text,
        observation=Observation.from_event(step.observation) if step.observation else None,
        resources=_resources(arguments or {}),
        guidance_after=guidance_after,
    )


def _resources(arguments: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple(
        [
            (name, value)
            for name in RESOURCE_ARGUMENTS
            if isinstance(value := arguments.get(name), str) and value
        ]
    )
