"""SIGKILL of the embedded broker, three times, while trajectories run: the supervisor
restarts it on its address and rehydrates it from the archive, the followers reconnect, and
every trajectory ends with each step proposed, observed and archived exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from apollo.v1 import events_pb2 as pb
from services.cli.stack.home import ApolloHome
from services.cli.stack.state import StackState, pid_alive
from services.eventlog.bus import KafkaBus
from services.eventlog.tail import tail_trajectory
from tests.e2e.apollo_cli import apollo
from tests.e2e.test_policy_crash import STEPS, archived_run, count, sleeping_start, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

TRAJECTORIES = 2
KILLS = 3
# Proposals (over all trajectories) between one recovery and the next kill.
PROGRESS_BETWEEN_KILLS = 4
PROGRESS_TIMEOUT_S = 60
RESTART_TIMEOUT_S = 30
END_TIMEOUT_S = 150


def stack_state(home: Path) -> StackState:
    state = StackState.load(ApolloHome(home).state_file)
    assert state is not None
    return state


def restarted_broker_pid(home: Path, killed: int) -> int | None:
    """The pid of a live broker other than `killed`, once the supervisor started one."""
    pid = stack_state(home).broker_pid
    return pid if pid and pid != killed and pid_alive(pid) else None


async def kill_broker_while_running(home: Path, seen: list[pb.Event]) -> list[int]:
    """SIGKILL the broker KILLS times, each after the run made progress; return the steps
    proposed at each kill."""
    proposed_at_kills = []
    for _ in range(KILLS):
        target = count(seen, "action_proposed") + PROGRESS_BETWEEN_KILLS
        await wait_until(
            lambda target=target: count(seen, "action_proposed") >= target,
            PROGRESS_TIMEOUT_S,
            f"{target} actions proposed",
        )
        killed = stack_state(home).broker_pid
        os.kill(killed, signal.SIGKILL)
        proposed_at_kills.append(count(seen, "action_proposed"))
        await wait_until(
            lambda killed=killed: restarted_broker_pid(home, killed),
            RESTART_TIMEOUT_S,
            "the supervisor restarted the broker",
        )
    return proposed_at_kills


def assert_each_step_once(events: list[pb.Event]) -> None:
    actions = [event for event in events if event.HasField("action_proposed")]
    assert [action.action_proposed.step_index for action in actions] == list(range(STEPS))
    observed = [
        event.observation_recorded for event in events if event.HasField("observation_recorded")
    ]
    assert [(o.action_id, o.step_index) for o in observed] == [
        (action.event_id, action.action_proposed.step_index) for action in actions
    ]
    ended = [event.trajectory_ended for event in events if event.HasField("trajectory_ended")]
    assert [(end.reason, end.steps) for end in ended] == [(pb.END_REASON_FINISHED, STEPS)]


async def test_broker_killed_three_times_loses_no_step_and_runs_none_twice(stack: Path) -> None:
    state = stack_state(stack)
    starts = [sleeping_start() for _ in range(TRAJECTORIES)]
    seen: dict[str, list[pb.Event]] = {start.trajectory_id: [] for start in starts}
    everything: list[pb.Event] = []

    def on_event(event: pb.Event) -> None:
        seen[event.trajectory_id].append(event)
        everything.append(event)

    followers = [
        asyncio.create_task(tail_trajectory(state.broker_address, trajectory, on_event))
        for trajectory in seen
    ]
    try:
        async with KafkaBus(state.broker_address, client_id="e2e-broker-crash") as bus:
            await bus.publish_many(starts)
        proposed_at_kills = await kill_broker_while_running(stack, everything)
        await wait_until(
            lambda: all(count(events, "trajectory_ended") for events in seen.values()),
            END_TIMEOUT_S,
            "every trajectory ended (as its follower saw it)",
        )
    finally:
        for follower in followers:
            follower.cancel()
        await asyncio.gather(*followers, return_exceptions=True)

    assert proposed_at_kills[-1] < TRAJECTORIES * STEPS, "the last kill was not mid-run"
    for trajectory_id in seen:
        assert_each_step_once(await archived_run(state.postgres_dsn, trajectory_id))
        verify = apollo(stack, "trajectory", "verify", trajectory_id, "--json")
        assert json.loads(verify.stdout) == {"actions": STEPS, "matching": STEPS}
