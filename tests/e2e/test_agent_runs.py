"""The agent end to end on the embedded stack: policy, sandbox, recorder, archive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.tasks.packs import TaskCatalog
from tests.e2e.apollo_cli import apollo

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

TASK_IDS = TaskCatalog().ids()


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_reference_replayed_through_the_stack_scores_at_least_70(stack: Path, task_id: str) -> None:
    result = apollo(
        stack, "run", "--task", task_id, "--policy", "scripted:reference", "--wait", "--json"
    )
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "finished"
    assert outcome["score"] >= 70

    verify = apollo(stack, "trajectory", "verify", outcome["trajectory_id"], "--json")
    verified = json.loads(verify.stdout)
    assert verified["actions"] == outcome["steps"]
    assert verified["matching"] == verified["actions"]
