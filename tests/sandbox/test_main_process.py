"""`python -m services.sandbox` on the real broker and Postgres, SIGKILLed mid-command."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from apollo.v1 import events_pb2 as pb
from services.cli.stack.broker import TansuBroker
from services.cli.stack.ports import free_port
from services.eventlog.admin import ensure_topics
from services.eventlog.bus import Delivery, KafkaBus, KafkaTuning, Subscription
from services.eventlog.events import new_event
from services.eventlog.topics import TRAJECTORIES
from services.sandbox.actions import RESTARTED_MID_ACTION

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

FAST_JOIN = KafkaTuning(session_timeout_ms=2000, heartbeat_interval_ms=500)


def start_sandbox(broker: TansuBroker, dsn: str, root: Path, port: int) -> subprocess.Popen:
    """The service as its own process, configured only through the environment."""
    env = {
        **os.environ,
        "APOLLO_KAFKA": broker.address,
        "APOLLO_POSTGRES_DSN": dsn,
        "APOLLO_METRICS_PORT": str(port),
        "APOLLO_BLOB_DIR": str(root / "blobs"),
        "APOLLO_SANDBOX_WORKSPACE_ROOT": str(root / "workspaces"),
    }
    with open(root / "sandbox.log", "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.sandbox"], env=env, stdout=out, stderr=out
        )


def healthz(port: int) -> int:
    """The status of /healthz, 0 while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
            return reply.status
    except (urllib.error.URLError, ConnectionError):
        return 0


async def eventually(check: Callable[[], object], timeout_s: float = 45.0) -> None:
    """Wait until `check()` is truthy."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def action_state(dsn: str, action_id: str) -> str | None:
    """The sandbox ledger's state of an action."""
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(
            "SELECT state FROM sandbox_actions WHERE action_id = $1", action_id
        )
    finally:
        await connection.close()


@pytest.fixture
def service_root(shared_tmp: Path) -> Path:
    """A root the sandbox user can traverse down to the workspaces."""
    shared_tmp.chmod(0o711)
    return shared_tmp


async def test_the_process_serves_survives_sigkill_and_answers_the_interrupted_action(
    broker: TansuBroker, pg_dsn: str, service_root: Path, act
) -> None:
    await ensure_topics(broker.address)
    answers: dict[str, pb.ObservationRecorded] = {}
    ended: list[str] = []

    async def collect(delivery: Delivery) -> None:
        event = delivery.event
        if event.HasField("observation_recorded"):
            answers[event.observation_recorded.action_id] = event.observation_recorded
        elif event.HasField("trajectory_ended"):
            ended.append(event.trajectory_id)

    port = free_port()
    process = start_sandbox(broker, pg_dsn, service_root, port)
    try:
        async with KafkaBus(broker.address, "test", tuning=FAST_JOIN) as bus:
            await bus.subscribe(Subscription("collect", (TRAJECTORIES.name,), "test", collect))
            await eventually(lambda: healthz(port) == 200)
            start = pb.TrajectoryStarted(task_id="data-filtering-dedup")
            await bus.publish(new_event(start, trajectory_id="proc", service="test"))
            stray = act("stranger", 0, "run_command", command="echo no")
            bad = act("proc", 0, "run_command", command="echo x", timeout=99)
            echo = act("proc", 1, "run_command", command="echo hello")
            await bus.publish_many([stray, bad, echo])
            await eventually(lambda: echo.event_id in answers)
            assert json.loads(answers[echo.event_id].observation_json)["output"] == "hello\n"
            assert "bad arguments" in answers[bad.event_id].error_message
            assert stray.event_id not in answers
            assert ended == []

            slow = act("proc", 2, "run_command", command="sleep 4; echo late > late")
            await bus.publish(slow)
            deadline = time.monotonic() + 30
            while await action_state(pg_dsn, slow.event_id) != "started":
                assert time.monotonic() < deadline, "the slow action never started"
                await asyncio.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)

            process = start_sandbox(broker, pg_dsn, service_root, port)
            await eventually(lambda: slow.event_id in answers)
            assert answers[slow.event_id].error_message == RESTARTED_MID_ACTION
            await asyncio.sleep(5)  # long enough for a re-run to have written its file
            late = service_root / "workspaces" / "proc" / "late"
            assert not await asyncio.to_thread(late.exists)
            # Healthy once the group has dropped the killed member (its session timeout).
            await eventually(lambda: healthz(port) == 200)
    finally:
        process.kill()
        process.wait(timeout=10)
