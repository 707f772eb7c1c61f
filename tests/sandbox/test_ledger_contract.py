"""One contract for every execution ledger: in memory and Postgres."""

from __future__ import annotations

import time

import pytest

from services.sandbox.ledger import (
    ActionRecord,
    ActionState,
    InMemoryExecutionLedger,
    TrajectoryRecord,
)
from services.sandbox.pg_ledger import PgExecutionLedger


@pytest.fixture
def memory_ledger() -> InMemoryExecutionLedger:
    return InMemoryExecutionLedger()


@pytest.fixture
async def postgres_ledger(pg_dsn: str):
    ledger = await PgExecutionLedger.connect(pg_dsn)
    yield ledger
    await ledger.close()


@pytest.fixture(
    params=["memory_ledger", pytest.param("postgres_ledger", marks=pytest.mark.integration)]
)
def ledger(request):
    """Each implementation in turn: the contract keeps the fake honest."""
    return request.getfixturevalue(request.param)


def started(action_id: str, tool: str = "run_command") -> ActionRecord:
    return ActionRecord(action_id, "t1", 0, tool, ActionState.STARTED)


async def test_an_action_starts_once(ledger) -> None:
    assert await ledger.start(started("a1"))
    assert not await ledger.start(started("a1"))
    assert (await ledger.get("a1")).state is ActionState.STARTED
    assert await ledger.get("nope") is None


async def test_the_newest_published_actions_come_oldest_first(ledger) -> None:
    for action_id in ("a1", "a2", "a3", "a4"):
        await ledger.start(started(action_id))
        await ledger.complete(action_id, [action_id.encode()], None)
    for action_id in ("a1", "a2", "a3"):  # a4 is completed, not published
        await ledger.mark_published(action_id)
    assert [r.action_id for r in await ledger.newest_published(2)] == ["a2", "a3"]
    assert (await ledger.newest_published(2))[0].events == (b"a2",)


async def test_completed_events_are_kept_until_published(ledger) -> None:
    await ledger.start(started("a1"))
    await ledger.start(started("a2", tool="eval"))
    await ledger.complete("a2", [b"e1", b"e2"], 42.5)
    unfinished = await ledger.unfinished()
    assert [(r.action_id, r.state) for r in unfinished] == [
        ("a1", ActionState.STARTED),
        ("a2", ActionState.COMPLETED),
    ]
    assert unfinished[1].events == (b"e1", b"e2")
    await ledger.mark_published("a2")
    assert [r.action_id for r in await ledger.unfinished()] == ["a1"]
    assert await ledger.eval_scores("t1") == [42.5]


async def test_trajectories_are_remembered_first_write_wins(ledger) -> None:
    first = TrajectoryRecord("t1", "task-a", 10, 60, 3, time.time(), task_seed=1004)
    await ledger.remember_trajectory(first)
    await ledger.remember_trajectory(TrajectoryRecord("t1", "task-b", 1, 1, 1, 0.0))
    assert await ledger.trajectory("t1") == first
    await ledger.mark_ended("t1")
    assert (await ledger.trajectory("t1")).ended
    assert await ledger.trajectory("t2") is None
