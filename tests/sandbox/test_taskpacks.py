"""Every built-in task is calibrated: the reference scores >= 70, doing nothing <= 10."""

from __future__ import annotations

import pytest

from services.sandbox.checking import check_task
from services.tasks.packs import TaskCatalog

CATALOG = TaskCatalog()


def test_at_least_six_tasks_across_the_domains() -> None:
    domains = {CATALOG.get(i).manifest.domain for i in CATALOG.ids()}
    assert len(CATALOG.ids()) >= 6
    assert {"data filtering", "loss design", "reward design"} <= domains


@pytest.mark.integration
@pytest.mark.timeout(120)
@pytest.mark.parametrize("task_id", CATALOG.ids())
async def test_reference_scores_at_least_70_and_baseline_at_most_10(task_id, backend) -> None:
    reference = await check_task(CATALOG, task_id, backend)
    baseline = await check_task(CATALOG, task_id, backend, baseline=True)
    assert reference["failed_steps"] == []
    assert reference["score"] >= 70
    assert baseline["score"] <= 10
