"""Successive step views of a growing trajectory: the same as a fresh view, built once each."""

from __future__ import annotations

import pytest

from services.judge import steps as steps_module
from services.judge.steps import StepViews, step_view
from services.trajectory.tracker import TrajectoryTracker
from tests.judge.conftest import Call, Say, ScriptedRun

pytestmark = pytest.mark.timeout(20)

SCRIPT = (
    Call("list_files", {"path": "."}, fields={"content": "a.py"}),
    Say("Read a.py first."),
    Call("open_file", {"path": "a.py"}, fields={"content": "1: x = 1"}),
    Call("open_file", {"path": "c.py"}, success=False, error="'c.py' is not a file"),
    Say("c.py does not exist."),
    Say("Really."),
    Call("edit_file", {"path": "a.py", "start": 1, "end": 1, "content": "x = 2"}),
    Call("eval", {}, fields={"score": 40.0}),
)


def test_every_view_equals_a_fresh_view_of_the_same_state() -> None:
    run = ScriptedRun().play(*SCRIPT)
    tracker, views = TrajectoryTracker(), StepViews()
    for event in run.events:
        state = tracker.apply(event)
        assert views.view(state) == step_view(state)


def test_a_view_of_another_trajectory_starts_afresh() -> None:
    views = StepViews()
    first, other = ScriptedRun().play(*SCRIPT), ScriptedRun().play(*SCRIPT[:3])
    tracker = TrajectoryTracker()
    for event in first.events:
        views.view(tracker.apply(event))
    state = None
    for event in other.events:
        state = tracker.apply(event)
    assert views.view(state) == step_view(state)


def test_each_settled_step_is_built_once(monkeypatch) -> None:
    built = []
    original = steps_module._judged_step
    monkeypatch.setattr(
        steps_module,
        "_judged_step",
        lambda step, after: built.append(step) or original(step, after),
    )
    calls = [
        Call("open_file", {"path": f"f{n}.py"}, fields={"content": "1: x"}) for n in range(400)
    ]
    run = ScriptedRun().play(*calls, end=False)
    tracker, views = TrajectoryTracker(), StepViews()
    for event in run.events:
        views.view(tracker.apply(event))
    # Each step once when it settles, plus the unsettled newest one or two on each view.
    assert len(built) <= 400 + 2 * len(run.events)
    assert len(built) < 3 * len(run.events)
