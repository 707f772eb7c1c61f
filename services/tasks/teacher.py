"""The simulated teacher: the reference solution with planned mistakes, steered by guidance.

Without a model to teach with, collection runs this stand-in, spelled `teacher:simulated`
wherever it appears. It follows the reference calls its start event carries, but before
each reference call it makes a mistake with probability `teacher_rate` (a start-event
label), which mistake drawn from those that fit there. A mistake persists (a loop goes
on, a broken file stays broken) until guidance is delivered; then the teacher repairs what
it broke and goes back to the reference.

Its next call is a pure function of the start event and of the steps at which guidance
was delivered, so a restarted or replayed policy makes the same calls, and the same walk
over a recorded trajectory says which of its steps were deviations: the ground truth
the judge is measured against. The judge never reads the labels.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from apollo.v1 import events_pb2 as pb
from services.tasks.packs import ToolCallSpec
from services.tasks.script import BadScript, calls_of
from services.tasks.teacher_mistakes import (
    Damage,
    Episode,
    Mistake,
    episodes_at,
    is_waiting_run,
    rewrite,
)
from services.trajectory.state import FINISH_TOOL, Trajectory, next_step_index

TEACHER_BACKEND = "teacher"
SIMULATED = "simulated"
SEED_LABEL = "teacher_seed"
RATE_LABEL = "teacher_rate"
# Optional: the mistakes it may make, comma-separated (all when absent).
MISTAKES_LABEL = "teacher_mistakes"


class BadTeacher(BadScript):
    """A simulated teacher's labels that do not make a plan, or a log it did not write."""


@dataclass(frozen=True)
class TeacherConfig:
    """What a simulated teacher's mistakes are drawn from."""

    seed: int = 0
    rate: float = 0.0
    mistakes: frozenset[Mistake] = frozenset(Mistake)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise BadTeacher(f"teacher rate {self.rate} is not between 0 and 1")
        if not self.mistakes:
            raise BadTeacher("a simulated teacher needs at least one kind of mistake")

    def labels(self) -> dict[str, str]:
        """The start-event labels that carry this config."""
        labels = {SEED_LABEL: str(self.seed), RATE_LABEL: repr(self.rate)}
        if self.mistakes != frozenset(Mistake):
            labels[MISTAKES_LABEL] = ",".join(sorted(self.mistakes))
        return labels

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> TeacherConfig:
        """The config a start event's labels carry (none: no mistakes); raises BadTeacher."""
        try:
            seed = int(labels.get(SEED_LABEL, "0"))
            rate = float(labels.get(RATE_LABEL, "0"))
            named = labels.get(MISTAKES_LABEL)
            mistakes = frozenset(Mistake(m.strip()) for m in named.split(",")) if named else None
        except ValueError as error:
            raise BadTeacher(f"bad simulated teacher label: {error}") from error
        return cls(seed, rate, mistakes if mistakes is not None else frozenset(Mistake))


def _draw(seed: int, at: int, purpose: str) -> int:
    # A hash, not `random`: stable across Python versions, and each position's draw is
    # independent of the others, so one reference call more reshuffles nothing else.
    digest = hashlib.sha256(f"{seed}:{at}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def plan(reference: Sequence[ToolCallSpec], config: TeacherConfig) -> dict[int, Episode]:
    """The mistakes the teacher will make, by the reference position they happen before."""
    planned = {}
    for at in range(len(reference)):
        fitting = [e for e in episodes_at(reference, at) if e.mistake in config.mistakes]
        if fitting and _draw(config.seed, at, "whether") / 2**64 < config.rate:
            planned[at] = fitting[_draw(config.seed, at, "which") % len(fitting)]
    return planned


@dataclass(frozen=True)
class TeacherCall:
    """One call of the teacher, and the mistake it is part of (None: on track)."""

    call: ToolCallSpec
    mistake: Mistake | None = None


@dataclass
class _Walk:
    """The teacher's position while it walks the reference; `step` makes one call."""

    reference: Sequence[ToolCallSpec]
    planned: Mapping[int, Episode]
    cursor: int = 0
    # The furthest reference position reached: calls before it are being made again.
    reached: int = 0
    loop: TeacherCall | None = None
    damages: list[Damage] = field(default_factory=list)
    repairs: deque[ToolCallSpec] = field(default_factory=deque)
    retry: Mistake | None = None
    begun: set[int] = field(default_factory=set)

    def step(self, guided: bool) -> TeacherCall:
        if guided:
            self._recover()
        if self.repairs:
            return TeacherCall(self.repairs.popleft())
        if self.loop is not None:
            return self.loop
        episode = self.planned.get(self.cursor)
        if episode is not None and self.cursor not in self.begun:
            self.begun.add(self.cursor)
            return self._begin(episode)
        return self._reference_call()

    def _recover(self) -> None:
        self.loop = None
        self.retry = None
        if self.damages:
            self.repairs.extend(damage.repair for damage in self.damages)
            self.cursor = min(self.cursor, *(damage.resume for damage in self.damages))
            self.damages.clear()

    def _begin(self, episode: Episode) -> TeacherCall:
        if episode.damage is not None:
            self.damages.append(episode.damage)
        if episode.retries_next_run:
            self.retry = episode.mistake
        if episode.replaces:
            self.cursor += 1
        if episode.loop is not None:
            self.loop = TeacherCall(episode.loop, episode.mistake)
        if episode.call is not None:
            return TeacherCall(episode.call, episode.mistake)
        return self.step(guided=False)

    def _reference_call(self) -> TeacherCall:
        if self.cursor >= len(self.reference):
            return TeacherCall(ToolCallSpec(tool=FINISH_TOOL))
        call = self.reference[self.cursor]
        if self.cursor < self.reached and call.tool == "create_file":
            # Made again after a repair: the file exists, so write it over instead.
            call = rewrite(call)
        self.cursor += 1
        self.reached = max(self.reached, self.cursor)
        if self.retry is not None and is_waiting_run(call):
            self.loop = TeacherCall(call, self.retry)
            self.retry = None
        return TeacherCall(call)


def walk(started: pb.TrajectoryStarted, guided: Iterable[bool]) -> list[TeacherCall]:
    """The teacher's calls, one per step, given whether each step's prompt held guidance."""
    reference = calls_of(started)
    teacher = _Walk(reference, plan(reference, TeacherConfig.from_labels(started.labels)))
    return [teacher.step(flag) for flag in guided]


def _guided_steps(state: Trajectory) -> list[bool]:
    """Per recorded step index, whether its action delivered guidance."""
    guided: dict[int, bool] = {}
    for step in state.steps:
        guided.setdefault(step.index, bool(step.action.action_proposed.delivered_guidance_ids))
    return [guided.get(index, False) for index in range(next_step_index(state))]


def teacher_calls(state: Trajectory) -> list[TeacherCall]:
    """The teacher's calls up to and including the next step, whose prompt delivers the
    pending guidance."""
    if state.started is None:
        raise BadTeacher(f"trajectory {state.trajectory_id} has not started")
    guided = [*_guided_steps(state), bool(state.pending_guidance)]
    return walk(state.started.trajectory_started, guided)


def deviations(state: Trajectory) -> dict[int, Mistake]:
    """The ground truth of a recorded teacher trajectory: its deviant steps, by index.

    Raises BadTeacher where a recorded call is not the one the teacher makes there (the log
    is not a simulated teacher's, or another version of it wrote it)."""
    if state.started is None:
        raise BadTeacher(f"trajectory {state.trajectory_id} has not started")
    calls = walk(state.started.trajectory_started, _guided_steps(state))
    recorded = {}
    for step in state.steps:
        recorded.setdefault(step.index, step.action.action_proposed.tool_call)
    for index, made in enumerate(calls):
        actual = recorded.get(index)
        if actual is not None and (actual.name, _arguments(actual)) != (
            made.call.tool,
            made.call.arguments,
        ):
            raise BadTeacher(
                f"step {index} of {state.trajectory_id} called {actual.name}, "
                f"not the simulated teacher's {made.call.tool}"
            )
    return {index: made.mistake for index, made in enumerate(calls) if made.mistake is not None}


def _arguments(call: pb.ToolCall) -> object:
    try:
        return json.loads(call.arguments_json)
    except json.JSONDecodeError:
        return None
