"""SIGKILL of the policy process mid-trajectory: after the supervisor restarts it, the
trajectory goes on to its end with every step proposed and observed exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from apollo.v1 import events_pb2 as pb
from services.cli.stack.home import ApolloHome
from services.cli.stack.state import StackState, pid_alive
from services.eventlog.bus import KafkaBus
from services.eventlog.pg_archive import PgArchive
from services.eventlog.tail import tail_trajectory
from services.tasks.packs import TaskCatalog
from services.tasks.starting import started_event
from tests.e2e.apollo_cli import apollo
from tests.faults import archive_checks as check

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

TASK = "data-filtering-dedup"
SLEEPS = 40
SLEEP_S = 0.2
# The script: sleeps, then finish; every step of it must be in the log once.
STEPS = SLEEPS + 1
KILL_AFTER_PROPOSALS = 10
PROPOSALS_TIMEOUT_S = 60
RESTART_TIMEOUT_S = 30
END_TIMEOUT_S = 120
ARCHIVED_TIMEOUT_S = 30
POLL_S = 0.05


def sleeping_start() -> pb.Event:
    """A scripted trajectory on TASK that sleeps SLEEPS times, then finishes."""
    calls = [("sleep", {"seconds": SLEEP_S})] * SLEEPS + [("finish", {"summary": "slept"})]
    return started_event(
        TaskCatalog().get(TASK),
        "scripted:reference",
        started_by="e2e-policy-crash",
        service="e2e-policy-crash",
        budgets=pb.Budgets(max_steps=STEPS),
        script=calls,  # not the task's reference solution: only sleeps
    )


async def wait_until(condition: Callable[[], object], timeout_s: float, what: str):
    """Poll `condition` until it returns something truthy; return it, or fail after the timeout."""
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:.0f} s: {what}")
        await asyncio.sleep(POLL_S)
    return result


def policy_pid(home: Path) -> int:
    """The policy process's pid, as the supervisor last recorded it."""
    state = StackState.load(ApolloHome(home).state_file)
    assert state is not None
    return state.services["policy"].pid


def restarted_policy_pid(home: Path, killed: int) -> int | None:
    """The pid of a live policy process other than `killed`, once the supervisor started one."""
    pid = policy_pid(home)
    return pid if pid != killed and pid_alive(pid) else None


def count(events: list[pb.Event], kind: str) -> int:
    """How many of `events` are of this kind (the name of the oneof field)."""
    return sum(event.HasField(kind) for event in events)


async def run_and_kill_policy(home: Path, state: StackState, started: pb.Event) -> tuple[int, int]:
    """Start the trajectory; SIGKILL the policy once KILL_AFTER_PROPOSALS are proposed; follow
    the run to its end. Returns the proposals seen at the kill and the restarted policy's pid."""
    seen: list[pb.Event] = []
    follower = asyncio.create_task(
        tail_trajectory(state.broker_address, started.trajectory_id, seen.append)
    )
    try:
        async with KafkaBus(state.broker_address, client_id="e2e-policy-crash") as bus:
            await bus.publish(started)
        await wait_until(
            lambda: count(seen, "action_proposed") >= KILL_AFTER_PROPOSALS,
            PROPOSALS_TIMEOUT_S,
            f"{KILL_AFTER_PROPOSALS} actions proposed",
        )
        killed = policy_pid(home)
        os.kill(killed, signal.SIGKILL)
        proposed_at_kill = count(seen, "action_proposed")
        restarted = await wait_until(
            lambda: restarted_policy_pid(home, killed),
            RESTART_TIMEOUT_S,
            "the supervisor restarted the policy",
        )
        await wait_until(
            lambda: count(seen, "trajectory_ended"), END_TIMEOUT_S, "the trajectory ended"
        )
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    return proposed_at_kill, restarted


async def archived_run(dsn: str, trajectory_id: str) -> list[pb.Event]:
    """The trajectory's events from the archive, once the recorder has archived its end."""
    archive = await PgArchive.connect(dsn)
    try:
        deadline = time.monotonic() + ARCHIVED_TIMEOUT_S
        while True:
            events = [record.event for record in await archive.events(trajectory_id)]
            if count(events, "trajectory_ended") or time.monotonic() > deadline:
                return events
            await asyncio.sleep(POLL_S)
    finally:
        await archive.close()


async def test_policy_killed_mid_trajectory_resumes_without_duplicated_or_missing_steps(
    stack: Path,
) -> None:
    state = StackState.load(ApolloHome(stack).state_file)
    assert state is not None
    started = sleeping_start()

    proposed_at_kill, restarted = await run_and_kill_policy(stack, state, started)

    assert KILL_AFTER_PROPOSALS <= proposed_at_kill < STEPS, "the kill was not mid-trajectory"
    assert pid_alive(restarted)
    check.finished_after(await archived_run(state.postgres_dsn, started.trajectory_id), STEPS)

    verify = apollo(stack, "trajectory", "verify", started.trajectory_id, "--json")
    assert json.loads(verify.stdout) == {"actions": STEPS, "matching": STEPS}
