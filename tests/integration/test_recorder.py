"""The recorder archives every topic idempotently and keeps what it rejects."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from apollo.v1 import events_pb2 as pb
from services.cli.stack.broker import TansuBroker
from services.eventlog.admin import ensure_topics
from services.eventlog.bus import KafkaBus
from services.eventlog.events import new_event
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import TRAJECTORIES, VERDICTS
from services.recorder.app import run
from services.recorder.settings import RecorderSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@contextlib.asynccontextmanager
async def running_recorder(broker: TansuBroker, archive: PgArchive) -> AsyncIterator[KafkaBus]:
    settings = RecorderSettings(kafka=broker.address, postgres_dsn="unused")
    stop = asyncio.Event()
    async with KafkaBus(broker.address, client_id="test") as bus:
        task = asyncio.create_task(run(settings, stop, archive=archive, dead_letters=bus))
        try:
            yield bus
        finally:
            stop.set()
            await task


async def until(condition, seconds: float = 20.0) -> None:
    async with asyncio.timeout(seconds):
        while not await condition():
            await asyncio.sleep(0.05)


@pytest.fixture
async def archive(broker: TansuBroker, pg_dsn: str) -> AsyncIterator[PgArchive]:
    await ensure_topics(broker.address)
    archive = await PgArchive.connect(pg_dsn)
    await archive.migrate()
    yield archive
    await archive.close()


def started(trajectory_id: str) -> pb.Event:
    return new_event(pb.TrajectoryStarted(task_id="t"), trajectory_id=trajectory_id, service="t")


def judged(trajectory_id: str) -> pb.Event:
    body = pb.ActionJudged(action_id="a", ruleset_version="r1", verdict=pb.VERDICT_MASK)
    return new_event(body, trajectory_id=trajectory_id, service="judge")


async def test_archives_every_topic_once_and_updates_the_read_model(
    broker: TansuBroker, archive: PgArchive
) -> None:
    first, verdict = started("rec-1"), judged("rec-1")
    async with running_recorder(broker, archive) as bus:
        await bus.publish_many([first, verdict])
        await bus.publish(first)  # redelivered: archived once
        await until(lambda: _count_is(archive, 2))
        await asyncio.sleep(0.3)
    records = await archive.events("rec-1")
    # Once each; the two topics are fetched independently, so their order is not defined.
    assert sorted((r.topic, r.event_id) for r in records) == sorted(
        [(TRAJECTORIES.name, first.event_id), (VERDICTS.name, verdict.event_id)]
    )
    row = await archive.trajectory("rec-1")
    assert row is not None
    assert row.status == "running"


async def test_rejected_messages_are_dead_lettered_and_archived_as_such(
    broker: TansuBroker, archive: PgArchive
) -> None:
    good = started("rec-2")
    async with running_recorder(broker, archive) as bus:
        await bus.publish_raw(TRAJECTORIES.name, b"rec-2", b"\x08\x96\x01 not an event")
        await bus.publish(good)

        async def archived_letter() -> bool:
            return bool(await archive.dead_letters())

        await until(archived_letter)
    letters = await archive.dead_letters()
    assert len(letters) == 1
    assert letters[0].raw == b"\x08\x96\x01 not an event"
    assert letters[0].topic == TRAJECTORIES.name
    assert letters[0].reason
    assert [r.event_id for r in await archive.events("rec-2")] == [good.event_id]


async def _count_is(archive: PgArchive, count: int) -> bool:
    return await archive.count() == count
