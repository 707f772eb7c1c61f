"""SIGKILL of the embedded Postgres mid-trajectory: the supervisor restarts it on the same
data directory and socket and starts the services again, and the trajectory ends with every
step proposed, observed and archived exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.bus import KafkaBus
from services.eventlog.tail import tail_trajectory
from tests.e2e.apollo_cli import apollo
from tests.e2e.test_broker_crash import stack_state
from tests.e2e.test_policy_crash import STEPS, archived_run, count, sleeping_start, wait_until
from tests.faults import archive_checks as check

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

KILL_AFTER_PROPOSALS = 8
PROPOSALS_TIMEOUT_S = 60
RESTART_TIMEOUT_S = 60
END_TIMEOUT_S = 120


def restarted_postgres_pid(home: Path, killed: int) -> int | None:
    """The postmaster's pid once the supervisor started another one."""
    pid = stack_state(home).postgres_pid
    return pid if pid and pid != killed else None


async def test_postgres_killed_mid_trajectory_loses_no_step_and_runs_none_twice(
    stack: Path,
) -> None:
    state = stack_state(stack)
    started = sleeping_start()
    seen: list[pb.Event] = []
    follower = asyncio.create_task(
        tail_trajectory(state.broker_address, started.trajectory_id, seen.append)
    )
    try:
        async with KafkaBus(state.broker_address, client_id="e2e-postgres-crash") as bus:
            await bus.publish(started)
        await wait_until(
            lambda: count(seen, "action_proposed") >= KILL_AFTER_PROPOSALS,
            PROPOSALS_TIMEOUT_S,
            f"{KILL_AFTER_PROPOSALS} actions proposed",
        )
        killed = state.postgres_pid
        os.kill(killed, signal.SIGKILL)
        proposed_at_kill = count(seen, "action_proposed")
        await wait_until(
            lambda: restarted_postgres_pid(stack, killed),
            RESTART_TIMEOUT_S,
            "the supervisor restarted Postgres",
        )
        await wait_until(
            lambda: count(seen, "trajectory_ended"), END_TIMEOUT_S, "the trajectory ended"
        )
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)

    assert proposed_at_kill < STEPS, "the kill was not mid-trajectory"
    check.finished_after(await archived_run(state.postgres_dsn, started.trajectory_id), STEPS)
    verify = apollo(stack, "trajectory", "verify", started.trajectory_id, "--json")
    assert json.loads(verify.stdout) == {"actions": STEPS, "matching": STEPS}
