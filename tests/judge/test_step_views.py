"""The settled view of a growing trajectory: a fresh view's settled steps, each built once."""

from __future__ import annotations

import pytest

from services.judge import steps as steps_module
from services.judge.steps import StepView, StepViews, step_view
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


def _settled_part(state) -> tuple[list, bool]:
    """A fresh view's steps that are settled: observed, with the next action proposed."""
    fresh = step_view(state)
    if fresh.ended:
        return fresh.steps, True
    count = 0
    while count < len(state.steps) - 1 and state.steps[count].observation is not None:
        count += 1
    return fresh.steps[:count], False


def test_the_settled_view_holds_a_fresh_views_settled_steps_at_every_state() -> None:
    run = ScriptedRun().play(*SCRIPT)
    tracker, views = TrajectoryTracker(), StepViews()
    for event in run.events:
        state = tracker.apply(event)
        view = views.settled(state)
        assert (view.steps, view.ended) == _settled_part(state)
    assert view == step_view(state)


def test_the_settled_view_grows_in_place_and_extends_its_indexes() -> None:
    run = ScriptedRun().play(*SCRIPT)
    tracker, views = TrajectoryTracker(), StepViews()
    grown = set()
    for event in run.events:
        view = views.settled(tracker.apply(event))
        grown.add(id(view))
        # Indexes extended as it grew equal those built at once over the same steps.
        fresh = StepView(list(view.steps), view.ended)
        assert view.guided_positions == fresh.guided_positions
        assert view.positions_by_resource == fresh.positions_by_resource
    assert len(grown) == 1


def test_a_view_of_another_trajectory_starts_afresh() -> None:
    views = StepViews()
    first, other = ScriptedRun().play(*SCRIPT), ScriptedRun().play(*SCRIPT[:3])
    tracker = TrajectoryTracker()
    for event in first.events:
        views.settled(tracker.apply(event))
    state = None
    for event in other.events:
        state = tracker.apply(event)
    assert views.settled(state) == step_view(state)


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
        views.settled(tracker.apply(event))
    # Each step once, when it settles.
    assert len(built) == 399
