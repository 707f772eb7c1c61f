"""Every built-in task is a calibrated family: on each instance checked, the reference scores
>= 70 and doing nothing <= 10."""

from __future__ import annotations

import asyncio

import pytest

from services.sandbox.checking import check_task
from services.tasks.families import heldout_seeds, training_seeds
from services.tasks.packs import TaskCatalog

CATALOG = TaskCatalog()
# Training and held-out instances alike.
SEEDS = training_seeds(3) + heldout_seeds(2)


def test_at_least_six_tasks_across_the_domains() -> None:
    domains = {CATALOG.get(i).manifest.domain for i in CATALOG.ids()}
    assert len(CATALOG.ids()) >= 6
    assert {"data filtering", "loss design", "reward design"} <= domains


def test_every_builtin_task_is_a_family() -> None:
    assert all(CATALOG.get(i).is_family for i in CATALOG.ids())


@pytest.mark.integration
@pytest.mark.timeout(120)
@pytest.mark.parametrize("task_id", CATALOG.ids())
async def test_reference_scores_at_least_70_and_baseline_at_most_10_on_5_instances(
    task_id, backend
) -> None:
    # The time is the tasks' own waits (training scripts that sleep, the reference's sleeps),
    # not CPU: checking every instance at once costs about what one check does.
    checks = [
        check_task(CATALOG, task_id, backend, seed=seed, baseline=baseline)
        for seed in SEEDS
        for baseline in (False, True)
    ]
    results = await asyncio.gather(*checks)
    references = [r for r in results if not r["baseline"]]
    baselines = [r for r in results if r["baseline"]]
    assert [r["failed_steps"] for r in references] == [[]] * len(SEEDS)
    assert all(r["score"] >= 70 for r in references), references
    assert all(r["score"] <= 10 for r in baselines), baselines
