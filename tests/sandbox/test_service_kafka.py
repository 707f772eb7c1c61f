"""SandboxService on the real broker: a replayed log does not run an action twice."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from apollo.v1 import events_pb2 as pb
from services.cli.stack.broker import TansuBroker
from services.eventlog.admin import ensure_topics
from services.eventlog.blobs import InMemoryBlobStore
from services.eventlog.bus import Delivery, KafkaBus, KafkaTuning, Subscription
from services.eventlog.events import new_event
from services.eventlog.topics import TRAJECTORIES
from services.sandbox.ledger import InMemoryExecutionLedger
from services.sandbox.registry import Runtimes
from services.sandbox.service import SandboxService
from services.tasks.packs import TaskCatalog

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

FAST_JOIN = KafkaTuning(session_timeout_ms=2000, heartbeat_interval_ms=500)


async def eventually(check: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Wait until `check()` holds."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def run_service(broker: TansuBroker, ledger, root: Path, backend) -> tuple:
    """A service with its own bus (fresh dedup memory) and its own group (reads from the start)."""
    bus = KafkaBus(broker.address, f"sandbox-{uuid.uuid4().hex[:6]}", tuning=FAST_JOIN)
    await bus.start()
    runtimes = Runtimes(TaskCatalog(), backend, ledger, root)
    service = SandboxService(
        bus, runtimes, ledger, InMemoryBlobStore(), group=f"sandbox-{uuid.uuid4().hex}"
    )
    await service.start()
    return bus, service


async def test_a_replayed_log_neither_reruns_nor_republishes_an_action(
    broker: TansuBroker, workspace_root: Path, backend, act
) -> None:
    await ensure_topics(broker.address)
    seen: list[pb.Event] = []

    async def collect(delivery: Delivery) -> None:
        if delivery.event.source.service == "sandbox":
            seen.append(delivery.event)

    def answers(action: pb.Event) -> list[pb.ObservationRecorded]:
        return [
            e.observation_recorded
            for e in seen
            if e.observation_recorded.action_id == action.event_id
        ]

    ledger = InMemoryExecutionLedger()
    async with KafkaBus(broker.address, "test", tuning=FAST_JOIN) as bus:
        await bus.subscribe(Subscription("collect", (TRAJECTORIES.name,), "collector", collect))
        first = await run_service(broker, ledger, workspace_root, backend)
        start = pb.TrajectoryStarted(task_id="data-filtering-dedup")
        await bus.publish(new_event(start, trajectory_id="kafka", service="test"))
        count = act("kafka", 0, "run_command", command="echo ran >> runs; wc -l < runs")
        await bus.publish(count)
        await eventually(lambda: answers(count))
        for closing in (first[1].stop, first[0].stop):
            await closing()

        # A second instance reads the whole log again, as after losing its offsets.
        second = await run_service(broker, ledger, workspace_root, backend)
        try:
            marker = act("kafka", 1, "list_files")
            await bus.publish(marker)
            await eventually(lambda: answers(marker))  # one partition: `count` came before
            await asyncio.sleep(0.3)
        finally:
            await second[1].stop()
            await second[0].stop()
    [observation] = answers(count)
    assert '"output":"1\\n"' in observation.observation_json
    assert (workspace_root / "kafka" / "runs").read_text() == "ran\n"
