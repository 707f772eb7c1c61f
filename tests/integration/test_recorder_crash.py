"""The recorder, killed with SIGKILL mid-stream and restarted, archives every event exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from apollo.v1 import events_pb2 as pb
from services.cli.stack.broker import TansuBroker
from services.cli.stack.ports import free_port
from services.eventlog.admin import ensure_topics
from services.eventlog.bus import KafkaBus
from services.eventlog.events import new_event
from services.eventlog.pg_archive import PgArchive

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

TRAJECTORIES = 20
EVENTS_PER_TRAJECTORY = 150


def start_recorder(broker: TansuBroker, dsn: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "APOLLO_KAFKA": broker.address,
        "APOLLO_POSTGRES_DSN": dsn,
        "APOLLO_METRICS_PORT": str(free_port()),
        "APOLLO_RECORDER_BATCH_SIZE": "50",
    }
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.recorder"], env=env, stdout=out, stderr=out
        )


def stream() -> list[pb.Event]:
    """Trajectories interleaved step by step, the way concurrent agents write."""
    events = []
    for step in range(EVENTS_PER_TRAJECTORY):
        for t in range(TRAJECTORIES):
            body = (
                pb.TrajectoryStarted(task_id="t")
                if step == 0
                else pb.GuidanceSubmitted(annotator="a", text=f"message {step}")
            )
            events.append(new_event(body, trajectory_id=f"crash-{t}", service="test"))
    return events


async def archived_count(archive: PgArchive) -> int:
    return await archive.count()


async def test_sigkill_mid_stream_then_restart_archives_each_event_once(
    broker: TansuBroker, pg_dsn: str, tmp_path: Path
) -> None:
    await ensure_topics(broker.address)
    archive = await PgArchive.connect(pg_dsn)
    await archive.migrate()
    events = stream()
    recorder = start_recorder(broker, pg_dsn, tmp_path / "recorder.log")
    try:
        async with KafkaBus(broker.address, client_id="test") as bus:
            half = len(events) // 2
            await bus.publish_many(events[:half])
            while await archived_count(archive) < half // 3:
                await asyncio.sleep(0.01)
            publishing = asyncio.create_task(bus.publish_many(events[half:]))
            await asyncio.sleep(0.05)
            recorder.send_signal(signal.SIGKILL)
            recorder.wait()
            killed_at = await archived_count(archive)
            await publishing
        assert killed_at < len(events), "the kill came too late to test anything"

        recorder = start_recorder(broker, pg_dsn, tmp_path / "recorder.log")
        deadline = asyncio.get_running_loop().time() + 120
        while await archived_count(archive) < len(events):
            assert asyncio.get_running_loop().time() < deadline, "recorder did not catch up"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # a duplicate would show up now

        assert await archived_count(archive) == len(events)
        for t in range(TRAJECTORIES):
            trajectory_id = f"crash-{t}"
            archived = [r.event.event_id for r in await archive.events(trajectory_id)]
            published = [e.event_id for e in events if e.trajectory_id == trajectory_id]
            assert archived == published
    finally:
        recorder.kill()
        recorder.wait()
        await archive.close()
