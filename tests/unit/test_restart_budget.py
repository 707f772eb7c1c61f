"""The supervisor's restart budget: at most N restarts per child in any rolling window."""

from __future__ import annotations

import pytest

from services.cli.stack.restarts import RestartBudget, RestartBudgets

pytestmark = pytest.mark.timeout(10)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_restarts_beyond_the_budget_wait_for_the_window_to_pass() -> None:
    clock = Clock()
    budget = RestartBudget(max_restarts=2, window_s=60.0, clock=clock)
    assert budget.take()
    clock.now = 10.0
    assert budget.take()
    assert not budget.take()  # a refusal spends nothing
    clock.now = 59.0
    assert not budget.take()
    clock.now = 60.0  # the first restart left the window
    assert budget.take()
    assert not budget.take()


def test_each_child_has_a_budget_of_its_own() -> None:
    budgets = RestartBudgets(max_restarts=1, window_s=60.0)
    assert budgets.take("broker")
    assert not budgets.take("broker")
    assert budgets.take("policy")


def test_forgiven_restarts_are_given_back_and_older_ones_stay_spent() -> None:
    clock = Clock()
    budget = RestartBudget(max_restarts=2, window_s=300.0, clock=clock)
    assert budget.take()
    clock.now = 100.0
    assert budget.take()
    assert not budget.take()
    # The broker died at 110: the restart at 100 was collateral, the one at 0 was not.
    budget.forgive(since=80.0)
    assert budget.take()
    assert not budget.take()


def test_forgiving_one_child_leaves_the_others_budgets_alone() -> None:
    budgets = RestartBudgets(max_restarts=1, window_s=60.0)
    assert budgets.take("recorder")
    assert budgets.take("judge")
    budgets.forgive("recorder", since=float("-inf"))
    assert budgets.take("recorder")
    assert not budgets.take("judge")
