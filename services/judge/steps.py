"""The judge's view of a trajectory: per action its call, its observation, the guidance after it."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from types import MappingProxyType
from typing import TypeVar

from apollo.v1 import events_pb2 as pb
from services.trajectory import Step, Trajectory, fold

# The arguments that name what an action works on, and so what later actions depend on.
RESOURCE_ARGUMENTS = ("path", "session")

_Key = TypeVar("_Key", bound=Hashable)
_Index = TypeVar("_Index")


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


@dataclass(frozen=True)
class StepView:
    """The steps of one trajectory, in order, and whether it has ended."""

    steps: tuple[JudgedStep, ...]
    ended: bool
    # Indexes the rule kinds build over all steps at once, so each action costs O(1).
    _indexes: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def index(self, build: Callable[[StepView, _Key], _Index], key: _Key) -> _Index:
        """`build(self, key)` (e.g. a rule), built once per view and key."""
        found = self._indexes.get((build, key))
        if found is None:
            found = self._indexes[build, key] = build(self, key)
        return found

    @cached_property
    def guided_positions(self) -> tuple[int, ...]:
        """The positions of the steps that guidance arrived after, in order."""
        return tuple(position for position, step in enumerate(self.steps) if step.guidance_after)

    @cached_property
    def positions_by_resource(self) -> Mapping[tuple[str, str], tuple[int, ...]]:
        """For each (argument, value) resource, the positions of the steps naming it, in order."""
        found: dict[tuple[str, str], list[int]] = {}
        for position, step in enumerate(self.steps):
            for resource in step.resources:
                found.setdefault(resource, []).append(position)
        return MappingProxyType({key: tuple(value) for key, value in found.items()})


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
    return StepView(tuple(judged), trajectory.is_over)


class StepViews:
    """Successive views of one growing trajectory that reuse its settled steps.

    A step is settled once it is observed and the next action (which names the guidance
    that came after it) is in: nothing later changes it. So each view builds only the
    newest steps, and a view at step 4,000 costs what one at step 10 does.
    """

    def __init__(self) -> None:
        self._settled: list[JudgedStep] = []
        self._action_ids: list[str] = []

    def view(self, trajectory: Trajectory) -> StepView:
        """The same view as `step_view(trajectory)`."""
        steps = trajectory.steps
        self._drop_unless_prefix_of(steps)
        texts: dict[str, pb.Event] | None = None
        while len(self._settled) < len(steps) - 1:
            step, following = steps[len(self._settled)], steps[len(self._settled) + 1]
            arrived = following.action.action_proposed.delivered_guidance_ids
            if arrived and texts is None:
                texts = {event.event_id: event for event in trajectory.guidance}
            if step.observation is None or any(gid not in (texts or {}) for gid in arrived):
                break
            after = tuple(Guidance.from_event(texts[gid]) for gid in arrived) if arrived else ()
            self._settled.append(_judged_step(step, after))
            self._action_ids.append(step.action_id)
        if len(self._settled) == len(steps):
            return StepView(tuple(self._settled), trajectory.is_over)
        newest = step_view(trajectory, start=len(self._settled))
        return StepView((*self._settled, *newest.steps), newest.ended)

    def _drop_unless_prefix_of(self, steps: Sequence[Step]) -> None:
        # The views are of one trajectory's successive states, but stay exact for any.
        kept = self._action_ids
        if len(kept) > len(steps) or (kept and steps[len(kept) - 1].action_id != kept[-1]):
            self._settled, self._action_ids = [], []


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
