"""The recorder on the in-memory log and archive: each event archived once, rejects kept."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.codec import encode
from services.eventlog.deadletter import parse_dead_letter
from services.eventlog.events import new_event
from services.eventlog.memory_reader import InMemoryLog, InMemoryReader
from services.eventlog.topics import DEADLETTER, TRAJECTORIES, VERDICTS, key_for, topic_for
from services.recorder.app import kafka_reader, run
from services.recorder.settings import RECORDER_GROUP, RecorderSettings

pytestmark = pytest.mark.timeout(10)

SETTINGS = RecorderSettings(recorder_poll_ms=5, recorder_batch_size=3)


def started(trajectory_id: str) -> pb.Event:
    return new_event(pb.TrajectoryStarted(task_id="t"), trajectory_id=trajectory_id, service="t")


def judged(trajectory_id: str) -> pb.Event:
    body = pb.ActionJudged(action_id="a", ruleset_version="r1", verdict=pb.VERDICT_MASK)
    return new_event(body, trajectory_id=trajectory_id, service="judge")


async def publish(log: InMemoryLog, *events: pb.Event) -> None:
    for event in events:
        await log.publish_raw(topic_for(event).name, key_for(event), encode(event))


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(5):
        while not await condition():
            await asyncio.sleep(0.005)


class WatchedReader(InMemoryReader):
    """Notes the events the recorder says it saw (what paces a standby Kafka reader)."""

    def __init__(self, log: InMemoryLog) -> None:
        super().__init__(log)
        self.seen: list[str] = []

    def saw(self, event: pb.Event) -> None:
        self.seen.append(event.event_id)


@contextlib.asynccontextmanager
async def recording(
    log: InMemoryLog, archive: InMemoryArchive, reader: InMemoryReader | None = None
) -> AsyncIterator[None]:
    """The recorder, wired by its composition root with the in-memory fakes."""
    stop = asyncio.Event()
    reader = reader or InMemoryReader(log)
    task = asyncio.create_task(
        run(SETTINGS, stop, archive=archive, reader=reader, dead_letters=log)
    )
    try:
        yield
    finally:
        stop.set()
        await task


def archived_count(archive: InMemoryArchive, count: int) -> Callable[[], Awaitable[bool]]:
    async def reached() -> bool:
        return await archive.count() >= count

    return reached


async def test_archives_each_event_of_every_topic_once() -> None:
    log, archive = InMemoryLog(), InMemoryArchive()
    events = [started("u-1"), judged("u-1"), *(started(f"u-{n}") for n in range(2, 7))]
    await publish(log, *events)
    async with recording(log, archive):
        await until(archived_count(archive, len(events)))
    records = await archive.events("u-1")
    assert sorted((r.topic, r.event_id) for r in records) == sorted(
        [(TRAJECTORIES.name, events[0].event_id), (VERDICTS.name, events[1].event_id)]
    )
    assert await archive.count() == len(events)
    row = await archive.trajectory("u-1")
    assert row is not None
    assert row.status == "running"
    assert await archive.load_offsets(RECORDER_GROUP) == {
        (TRAJECTORIES.name, 0): 6,
        (VERDICTS.name, 0): 1,
    }


async def test_the_recorder_stands_by_on_what_it_archives() -> None:
    """The gateway answers guidance once it is archived, so the recorder stands by while a
    trajectory runs, paced by every event it decodes."""
    log, archive = InMemoryLog(), InMemoryArchive()
    events = [started("u-1"), judged("u-1")]
    await publish(log, *events)
    reader = WatchedReader(log)
    async with recording(log, archive, reader):
        await until(archived_count(archive, len(events)))
    assert reader.seen == [event.event_id for event in events]
    assert kafka_reader(SETTINGS).standby


async def test_a_redelivered_event_is_archived_once() -> None:
    log, archive = InMemoryLog(), InMemoryArchive()
    first = started("u-dup")
    await publish(log, first, first, first)
    async with recording(log, archive):
        await until(archived_count(archive, 1))
        await publish(log, first)

        async def read_everything() -> bool:
            stored = await archive.load_offsets(RECORDER_GROUP)
            return stored.get((TRAJECTORIES.name, 0)) == 4

        await until(read_everything)
    assert [r.event_id for r in await archive.events("u-dup")] == [first.event_id]


async def test_resumes_from_the_offsets_stored_with_the_archive() -> None:
    log, archive = InMemoryLog(), InMemoryArchive()
    before = [started(f"u-old-{n}") for n in range(3)]
    await publish(log, *before)
    # As if an earlier run archived them elsewhere: only what comes after is read.
    await archive.reset_offsets(RECORDER_GROUP, {(TRAJECTORIES.name, 0): len(before)})
    after = started("u-new")
    await publish(log, after)
    async with recording(log, archive):
        await until(archived_count(archive, 1))
    assert [r.event_id async for r in archive.iter_all()] == [after.event_id]

    later = started("u-later")
    await publish(log, later)
    async with recording(log, archive):
        await until(archived_count(archive, 2))
    assert [r.event_id async for r in archive.iter_all()] == [after.event_id, later.event_id]


async def test_undecodable_messages_are_dead_lettered_and_archived_as_such() -> None:
    log, archive = InMemoryLog(), InMemoryArchive()
    good = started("u-bad")
    await log.publish_raw(TRAJECTORIES.name, b"u-bad", b"\x08\x96\x01 not an event")
    await publish(log, good)

    async def archived_letter() -> bool:
        return bool(await archive.dead_letters())

    async with recording(log, archive):
        await until(archived_letter)
    [published] = log.messages(DEADLETTER.name)
    assert published.key == b"u-bad"
    assert parse_dead_letter(published.value or b"").consumer_group == RECORDER_GROUP
    [letter] = await archive.dead_letters()
    assert letter.raw == b"\x08\x96\x01 not an event"
    assert (letter.topic, letter.offset) == (TRAJECTORIES.name, 0)
    assert letter.reason
    assert [r.event_id for r in await archive.events("u-bad")] == [good.event_id]


async def test_a_broken_dead_letter_is_kept_raw() -> None:
    log, archive = InMemoryLog(), InMemoryArchive()
    await log.publish_raw(DEADLETTER.name, None, b"\xff\xff not a dead letter")

    async def archived_letter() -> bool:
        return bool(await archive.dead_letters())

    async with recording(log, archive):
        await until(archived_letter)
    [letter] = await archive.dead_letters()
    assert letter.error_class == "undecodable"
    assert (letter.topic, letter.offset, letter.raw) == (
        DEADLETTER.name,
        0,
        b"\xff\xff not a dead letter",
    )
