"""The chaos monkey: its plan replays from its seed, even across kinds, within the budget; it
kills only a live process."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from services.cli.stack.home import ApolloHome
from services.cli.stack.restarts import WINDOW_S
from services.cli.stack.state import ServiceProcess, StackState
from tests.faults.chaos_monkey import INFRA_KINDS, KILLS_PER_WINDOW, SERVICE_KINDS, ChaosMonkey

pytestmark = pytest.mark.timeout(10)

KINDS = SERVICE_KINDS + INFRA_KINDS


def monkey(seed: int, kills: int) -> ChaosMonkey:
    return ChaosMonkey(ApolloHome(Path("unused")), KINDS, seed, kills)


def test_a_seed_replays_its_plan_and_another_seed_differs() -> None:
    assert monkey(7, 30).plan() == monkey(7, 30).plan()
    assert monkey(7, 30).plan() != monkey(8, 30).plan()


def test_every_kind_is_killed_as_often_as_any_other_give_or_take_one() -> None:
    counts = Counter(monkey(3, 30).plan())
    assert set(counts) == set(KINDS)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_a_kind_waits_once_its_kills_would_use_up_the_restart_budget() -> None:
    chaos = monkey(1, 300)
    chaos.started = time.monotonic()
    for n in range(KILLS_PER_WINDOW - 1):
        chaos.log.append((n, "broker", 100 + n, 0.1))
    assert chaos.budget_wait("broker") == 0.0
    chaos.log.append((KILLS_PER_WINDOW, "broker", 200, 0.1))
    assert WINDOW_S - 1 < chaos.budget_wait("broker") <= WINDOW_S + 10
    assert chaos.budget_wait("policy") == 0.0


async def test_a_victim_already_gone_is_waited_for_and_its_replacement_killed(
    tmp_path: Path,
) -> None:
    """After a broker restart the state still names services the supervisor stopped; the
    monkey must not fail on them (nor signal a stranger): it kills what replaces them."""
    home = ApolloHome(tmp_path)
    home.root.mkdir(parents=True, exist_ok=True)
    gone = await asyncio.create_subprocess_exec("true")
    await gone.wait()
    state = StackState(supervisor_pid=1, services={"policy": ServiceProcess(gone.pid, 0)})
    state.save(home.state_file)
    replacement = await asyncio.create_subprocess_exec("sleep", "30")
    try:

        async def restart_later() -> None:
            await asyncio.sleep(0.3)
            state.services["policy"] = ServiceProcess(replacement.pid, 0)
            state.save(home.state_file)

        restarting = asyncio.create_task(restart_later())
        killed = await ChaosMonkey(home, ("policy",), 1, 1).kill_live("policy")
        await restarting
        assert killed == replacement.pid
        assert await asyncio.wait_for(replacement.wait(), 5) == -9
    finally:
        if replacement.returncode is None:
            replacement.kill()
