"""SIGKILL of the embedded broker, three times, while trajectories run and guidance arrives:
the supervisor restarts it on its address and rehydrates it from the archive, the followers
reconnect, every trajectory ends with each step proposed, observed and archived exactly once,
and each guidance message the gateway accepted is delivered exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from apollo.v1 import events_pb2 as pb
from services.cli.gateway_commands import add_account
from services.cli.stack.home import ApolloHome
from services.cli.stack.state import StackState, pid_alive
from services.eventlog.bus import KafkaBus
from services.eventlog.tail import tail_trajectory
from services.gateway.users import Role
from tests.e2e.apollo_cli import apollo
from tests.e2e.conftest import AGENT_SERVICES, embedded_stack
from tests.e2e.test_policy_crash import STEPS, archived_run, count, sleeping_start, wait_until
from tests.faults import archive_checks as check

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

TRAJECTORIES = 2
KILLS = 3
# Proposals (over all trajectories) between one recovery and the next kill.
PROGRESS_BETWEEN_KILLS = 4
PROGRESS_TIMEOUT_S = 60
RESTART_TIMEOUT_S = 30
END_TIMEOUT_S = 150
# Answers that mean "try again": the gateway is restarting or the archive is catching up.
RETRYABLE = {502, 503, 504}
GUIDANCE_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def guided_stack() -> Iterator[Path]:
    """The agent's services and the gateway, for guidance during the outages."""
    with embedded_stack(f"{AGENT_SERVICES},gateway") as home:
        yield home


def stack_state(home: Path) -> StackState:
    state = StackState.load(ApolloHome(home).state_file)
    assert state is not None
    return state


def restarted_broker_pid(home: Path, killed: int) -> int | None:
    """The pid of a live broker other than `killed`, once the supervisor started one."""
    pid = stack_state(home).broker_pid
    return pid if pid and pid != killed and pid_alive(pid) else None


async def guide_until_accepted(gateway: httpx.AsyncClient, trajectory_id: str, text: str) -> str:
    """POST guidance until the gateway accepts it (only retryable refusals on the way); its id."""
    deadline = time.monotonic() + GUIDANCE_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            reply = await gateway.post(
                f"/api/trajectories/{trajectory_id}/guidance", json={"text": text, "kind": "advice"}
            )
        except httpx.TransportError:
            await asyncio.sleep(0.2)  # the gateway is restarting with the services
            continue
        if reply.status_code == 202:
            return reply.json()["event_id"]
        assert reply.status_code in RETRYABLE, reply.text
        await asyncio.sleep(0.2)
    raise AssertionError(f"guidance not accepted within {GUIDANCE_TIMEOUT_S} s")


async def kill_broker_while_running(
    home: Path, seen: list[pb.Event], gateway: httpx.AsyncClient, trajectories: list[str]
) -> tuple[list[int], list[str]]:
    """SIGKILL the broker KILLS times, each after the run made progress, and guide every
    trajectory during each outage; the steps proposed at each kill and the accepted guidance."""
    proposed_at_kills, accepted = [], []
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
        guided = [
            guide_until_accepted(gateway, trajectory, f"outage {len(proposed_at_kills)}")
            for trajectory in trajectories
        ]
        accepted += await asyncio.gather(*guided)
        await wait_until(
            lambda killed=killed: restarted_broker_pid(home, killed),
            RESTART_TIMEOUT_S,
            "the supervisor restarted the broker",
        )
    return proposed_at_kills, accepted


def delivered_guidance(events: list[pb.Event]) -> Counter[str]:
    """How often each guidance id was delivered into a prompt."""
    return Counter(
        guidance_id
        for event in events
        if event.HasField("action_proposed")
        for guidance_id in event.action_proposed.delivered_guidance_ids
    )


async def test_broker_killed_three_times_loses_no_step_nor_accepted_guidance(
    guided_stack: Path,
) -> None:
    stack = guided_stack
    state = stack_state(stack)
    token = await add_account(state.postgres_dsn, None, Role.ANNOTATOR)
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
    headers = {"Authorization": f"Bearer {token}"}
    gateway = httpx.AsyncClient(base_url=state.gateway_url, headers=headers, timeout=15)
    try:
        async with KafkaBus(state.broker_address, client_id="e2e-broker-crash") as bus:
            await bus.publish_many(starts)
        proposed_at_kills, accepted = await kill_broker_while_running(
            stack, everything, gateway, list(seen)
        )
        await wait_until(
            lambda: all(count(events, "trajectory_ended") for events in seen.values()),
            END_TIMEOUT_S,
            "every trajectory ended (as its follower saw it)",
        )
    finally:
        await gateway.aclose()
        for follower in followers:
            follower.cancel()
        await asyncio.gather(*followers, return_exceptions=True)

    assert proposed_at_kills[-1] < TRAJECTORIES * STEPS, "the last kill was not mid-run"
    delivered: Counter[str] = Counter()
    for trajectory_id in seen:
        events = await archived_run(state.postgres_dsn, trajectory_id)
        check.finished_after(events, STEPS)
        delivered += delivered_guidance(events)
        verify = apollo(stack, "trajectory", "verify", trajectory_id, "--json")
        assert json.loads(verify.stdout) == {"actions": STEPS, "matching": STEPS}
    assert len(accepted) == KILLS * TRAJECTORIES
    assert delivered == Counter(accepted), "accepted guidance not delivered exactly once"
