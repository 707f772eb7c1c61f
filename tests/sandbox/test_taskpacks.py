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
@pytest.mark.timeout(180)
async def test_reference_scores_at_least_70_and_baseline_at_most_10_on_5_instances_each(
    backend,
) -> None:
    # The time is the tasks' own waits (training scripts that sleep, the reference's sleeps),
    # not CPU: checking every instance of every family at once costs about the slowest check.
    checks = [
        check_task(CATALOG, task_id, backend, seed=seed, baseline=baseline)
        for task_id in CATALOG.ids()
        for seed in SEEDS
        for baseline in (False, True)
    ]
    results = await asyncio.gather(*checks)
    assert len(results) == 2 * len(SEEDS) * len(CATALOG.ids())
    failed = [
        (r["id"], r["seed"], r["baseline"], r["score"], r["failed_steps"])
        for r in results
        if r["failed_steps"] or (r["score"] > 10 if r["baseline"] else r["score"] < 70)
    ]
    assert failed == []
