"""`apollo tasks list` shows the families and the split; `tasks check --seed` one instance."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from services.cli.sandbox_commands import tasks_app
from services.tasks.families import SPLIT_RULE

pytestmark = pytest.mark.timeout(120)


def tasks(*args: str):
    app = typer.Typer()
    app.add_typer(tasks_app, name="tasks")
    return CliRunner().invoke(app, ["tasks", *args], env={"COLUMNS": "200"})


def test_the_listing_marks_every_builtin_task_a_family_and_states_the_split() -> None:
    listed = json.loads(tasks("list", "--json").output)
    assert all(task["family"] for task in listed)
    table = tasks("list").output
    assert SPLIT_RULE in " ".join(table.split())
    assert "family" in table


@pytest.mark.integration
def test_check_runs_the_reference_on_the_named_instance(backend) -> None:
    result = tasks("check", "reward-design-sorting", "--seed", "1001", "--json")
    assert result.exit_code == 0, result.output
    checked = json.loads(result.output)
    assert (checked["seed"], checked["heldout"]) == (1001, True)
    assert checked["score"] >= 70


def test_check_refuses_a_seed_no_instance_has() -> None:
    result = tasks("check", "reward-design-sorting", "--seed", "-1")
    assert result.exit_code == 2
