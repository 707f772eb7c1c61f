"""Drift signals: each one fires on its pattern and stays quiet otherwise."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest

from services.gateway.drift import DriftRules, attention_reasons
from services.trajectory import fold

pytestmark = pytest.mark.timeout(10)
RULES = DriftRules(no_progress_steps=5, stall_seconds=600)


def reasons(run, now=None) -> list[str]:
    return attention_reasons(fold(run.events), now or run.clock, RULES)


def test_a_healthy_run_needs_no_attention(new_run) -> None:
    run = new_run()
    run.started()
    run.step("create_file", {"path": "a.py"})
    run.step("run_command", {"command": "pytest"}, observed={"session": "s", "exit_code": 0})
    assert reasons(run) == []


def test_three_failing_actions_in_a_row(new_run) -> None:
    run = new_run()
    run.started()
    run.step("run_command", {"command": "a"}, success=False)
    run.step("run_command", {"command": "b"}, success=False)
    assert reasons(run) == []
    run.step("run_command", {"command": "c"}, success=False)
    assert reasons(run) == ["3 failing actions in a row"]
    run.step("run_command", {"command": "d"})
    assert reasons(run) == []


def test_the_same_call_three_times(new_run) -> None:
    run = new_run()
    run.started()
    for _ in range(3):
        run.step("get_session_output", {"session": "s"}, observed={"session": "s", "idle": False})
    assert reasons(run) == ["the same get_session_output call 3 times in a row"]
    run.step("get_session_output", {"session": "t"}, observed={"session": "t", "idle": False})
    assert reasons(run) == []


def test_no_progress_for_n_steps(new_run) -> None:
    run = new_run()
    run.started()
    run.step("eval", eval_score=10.0)
    for n in range(5):
        run.step("open_file", {"path": f"f{n}.py"})
    assert reasons(run) == ["no file change or eval for 5 steps"]
    run.step("edit_file", {"path": "f.py"})
    assert reasons(run) == []


def test_a_short_run_drifts_after_a_quarter_of_its_steps_without_progress(new_run) -> None:
    run = new_run()
    run.started(max_steps=8)
    run.step("open_file", {"path": "a.py"})
    assert reasons(run) == []
    run.step("open_file", {"path": "b.py"})
    assert reasons(run) == ["no file change or eval for 2 steps"]


def test_a_failed_edit_or_a_refused_eval_is_no_progress(new_run) -> None:
    run = new_run()
    run.started()
    for n in range(4):
        run.step("edit_file", {"path": f"f{n}.py"}, success=False)
    run.step("eval", success=False)  # no evals left
    assert "no file change or eval for 5 steps" in reasons(run)


def test_no_activity_for_a_while(new_run) -> None:
    run = new_run()
    last = run.started().occurred_at.ToDatetime(tzinfo=run.clock.tzinfo)
    assert reasons(run, last + timedelta(seconds=599)) == []
    assert reasons(run, last + timedelta(seconds=700)) == ["no activity for 700 s"]


def test_sleeping_while_every_session_is_idle(new_run) -> None:
    run = new_run()
    run.started()
    run.step(
        "run_command",
        {"command": "train", "wait_for_completion": False},
        observed={"session": "s", "exit_code": None},
    )
    run.step("sleep", {"seconds": 60})
    assert reasons(run) == []  # a job runs: waiting is right
    run.step("check_session_idle", {"session": "s"}, observed={"session": "s", "idle": True})
    run.step("sleep", {"seconds": 60})
    assert reasons(run) == ["waiting while every session is idle"]


def test_steps_budget_nearly_spent(new_run) -> None:
    run = new_run()
    run.started(max_steps=10)
    for n in range(8):
        run.step("create_file", {"path": f"{n}.py"})
    assert reasons(run) == []
    run.step("create_file", {"path": "9.py"})
    assert reasons(run) == ["steps budget 90% spent"]


def test_evals_budget_spent(new_run) -> None:
    run = new_run()
    run.started(max_evals=1)
    run.step("eval", eval_score=1.0)
    assert reasons(run) == ["evals budget 100% spent"]


def test_time_budget_nearly_spent(new_run) -> None:
    run = new_run()
    began = run.started(max_seconds=100).occurred_at.ToDatetime(tzinfo=run.clock.tzinfo)
    assert reasons(run, began + timedelta(seconds=89)) == []
    assert reasons(run, began + timedelta(seconds=95)) == ["time budget 95% spent"]


def test_an_ended_run_needs_no_attention(new_run) -> None:
    run = new_run()
    run.started()
    for _ in range(3):
        run.step(success=False)
    run.ended()
    assert reasons(run) == []


class CountingSteps(Sequence):
    """A trajectory's steps that count how many of them a check reads."""

    def __init__(self, steps: list) -> None:
        self._steps = steps
        self.read = 0

    def __len__(self) -> int:
        return len(self._steps)

    def __getitem__(self, index):
        found = self._steps[index]
        self.read += len(found) if isinstance(index, slice) else 1
        return found

    def __iter__(self) -> Iterator:
        for step in self._steps:
            self.read += 1
            yield step

    def __reversed__(self) -> Iterator:
        for step in reversed(self._steps):
            self.read += 1
            yield step


def test_the_signals_read_a_bounded_tail_of_a_long_run(new_run) -> None:
    run = new_run()
    run.started()
    run.step("open_file", {"path": "a.py"}, success=False)
    run.step("open_file", {"path": "b.py"})
    short = fold(run.events)
    steps = CountingSteps([*short.steps] * 2000)  # 4,000 steps of reading, no progress
    state = dataclasses.replace(short, steps=steps)
    assert attention_reasons(state, run.clock, RULES) == ["no file change or eval for 5 steps"]
    assert steps.read <= 3 * RULES.no_progress_steps
