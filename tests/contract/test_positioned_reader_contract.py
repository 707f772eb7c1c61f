"""Every positioned reader (Kafka on a real Tansu broker, in memory) reads the same way."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer

from services.eventlog.admin import ensure_topics
from services.eventlog.kafka.readers import KafkaReader
from services.eventlog.memory_reader import InMemoryLog, InMemoryReader
from services.eventlog.positioned import (
    PositionedReader,
    ReaderNotStarted,
    StartAt,
    read_until,
    reading,
)
from services.eventlog.topics import Topic

pytestmark = pytest.mark.timeout(60)


@dataclass
class LogUnderTest:
    """A broker to write to and readers of it, whatever the implementation."""

    create: Callable[[int], Awaitable[str]]
    publish: Callable[[str, list[bytes]], Awaitable[None]]
    new_reader: Callable[[], PositionedReader]


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("kafka", id="kafka", marks=pytest.mark.integration),
    ]
)
async def log(request: pytest.FixtureRequest) -> AsyncIterator[LogUnderTest]:
    """Each implementation behind one fixture; `create` makes a fresh topic per call."""
    if request.param == "memory":
        memory = InMemoryLog(topics=())
        yield LogUnderTest(
            create=lambda partitions: _create_in_memory(memory, partitions),
            publish=lambda topic, values: _publish_in_memory(memory, topic, values),
            new_reader=lambda: InMemoryReader(memory),
        )
        return
    address = request.getfixturevalue("broker").address
    producer = AIOKafkaProducer(bootstrap_servers=address, linger_ms=0)
    await producer.start()

    async def create(partitions: int) -> str:
        topic = _fresh_topic(partitions)
        await ensure_topics(address, [topic])
        return topic.name

    async def publish(topic: str, values: list[bytes]) -> None:
        # Pipelined, so the broker stores several record batches (its end-offset quirk).
        sent = [await producer.send(topic, value, key=value) for value in values]
        await asyncio.gather(*sent)

    try:
        yield LogUnderTest(create, publish, lambda: KafkaReader(address))
    finally:
        await producer.stop()


def _fresh_topic(partitions: int) -> Topic:
    return Topic(f"contract.{uuid.uuid4().hex[:10]}", partitions, "a test topic")


async def _create_in_memory(memory: InMemoryLog, partitions: int) -> str:
    topic = _fresh_topic(partitions)
    memory.create(topic)
    return topic.name


async def _publish_in_memory(memory: InMemoryLog, topic: str, values: list[bytes]) -> None:
    for value in values:
        await memory.publish_raw(topic, value, value)


def values(prefix: str, count: int) -> list[bytes]:
    return [f"{prefix}-{n}".encode() for n in range(count)]


async def fetch_all(reader: PositionedReader, count: int) -> list:
    """Fetch until `count` messages came, failing if they take too long."""
    messages: list = []
    async with asyncio.timeout(20):
        while len(messages) < count:
            messages += (await reader.fetch(max_records=100, timeout_ms=100)).messages
    return messages


async def test_from_the_beginning_every_message_comes_once_in_order(log: LogUnderTest) -> None:
    topic = await log.create(1)
    await log.publish(topic, values("a", 5))
    reader = log.new_reader()
    async with reading(reader, [topic]) as ends:
        assert ends == {(topic, 0): 5}
        messages = await fetch_all(reader, 5)
        assert (await reader.fetch(max_records=100, timeout_ms=50)).messages == []
    assert [(m.topic, m.partition, m.offset, m.key, m.value) for m in messages] == [
        (topic, 0, n, v, v) for n, v in enumerate(values("a", 5))
    ]


async def test_from_the_end_only_what_comes_after_start(log: LogUnderTest) -> None:
    topic = await log.create(1)
    await log.publish(topic, values("old", 5))
    reader = log.new_reader()
    async with reading(reader, [topic], otherwise=StartAt.END) as ends:
        assert ends == {(topic, 0): 5}
        await log.publish(topic, values("new", 2))
        messages = await fetch_all(reader, 2)
    assert [(m.offset, m.value) for m in messages] == [(5, b"new-0"), (6, b"new-1")]


async def test_given_offsets_resume_there_and_other_partitions_use_the_default(
    log: LogUnderTest,
) -> None:
    resumed, fresh = await log.create(1), await log.create(1)
    await log.publish(resumed, values("r", 5))
    await log.publish(fresh, values("f", 2))
    reader = log.new_reader()
    async with reading(reader, [resumed, fresh], offsets={(resumed, 0): 3}):
        messages = await fetch_all(reader, 4)
    assert sorted((m.topic == resumed, m.offset) for m in messages) == [
        (False, 0),
        (False, 1),
        (True, 3),
        (True, 4),
    ]


async def test_an_offset_past_the_end_restarts_from_the_beginning(log: LogUnderTest) -> None:
    topic = await log.create(1)
    await log.publish(topic, values("a", 3))
    reader = log.new_reader()
    async with reading(reader, [topic], offsets={(topic, 0): 50}):
        messages = await fetch_all(reader, 3)
    assert [m.offset for m in messages] == [0, 1, 2]


async def test_every_partition_is_read_with_its_own_offsets(log: LogUnderTest) -> None:
    topic = await log.create(2)
    await log.publish(topic, values("k", 20))
    reader = log.new_reader()
    async with reading(reader, [topic]) as ends:
        messages = await fetch_all(reader, 20)
    assert set(ends) == {(topic, 0), (topic, 1)}
    assert sum(ends.values()) == 20
    assert sorted(m.value for m in messages) == sorted(values("k", 20))
    for partition, end in ends.items():
        offsets = [m.offset for m in messages if (m.topic, m.partition) == partition]
        assert offsets == list(range(end))


async def test_a_fetch_reports_high_water_marks_and_what_is_left(log: LogUnderTest) -> None:
    topic = await log.create(1)
    await log.publish(topic, values("a", 5))
    reader = log.new_reader()
    async with reading(reader, [topic]):
        fetched = await reader.fetch(max_records=2, timeout_ms=2000)
    assert [m.offset for m in fetched.messages] == [0, 1]
    assert fetched.highwater == {(topic, 0): 5}
    assert fetched.behind() == {(topic, 0): 3}


async def test_an_empty_fetch_waits_its_timeout_and_returns_nothing(log: LogUnderTest) -> None:
    topic = await log.create(1)
    reader = log.new_reader()
    async with reading(reader, [topic]) as ends:
        began = time.perf_counter()
        fetched = await reader.fetch(max_records=10, timeout_ms=200)
        waited = time.perf_counter() - began
    assert ends == {(topic, 0): 0}
    assert fetched.messages == []
    assert fetched.highwater == {(topic, 0): 0}
    assert 0.15 <= waited < 2


async def test_a_waiting_fetch_returns_soon_after_a_message_arrives(log: LogUnderTest) -> None:
    topic = await log.create(1)
    reader = log.new_reader()
    async with reading(reader, [topic]):
        waiting = asyncio.create_task(reader.fetch(max_records=10, timeout_ms=10_000))
        await asyncio.sleep(0.1)
        began = time.perf_counter()
        await log.publish(topic, [b"late"])
        fetched = await waiting
        waited = time.perf_counter() - began
    assert [m.value for m in fetched.messages] == [b"late"]
    assert waited < 1.0  # polled, not held for the whole timeout


async def test_topics_that_do_not_exist_are_skipped(log: LogUnderTest) -> None:
    topic = await log.create(1)
    reader = log.new_reader()
    async with reading(reader, [topic, f"missing.{uuid.uuid4().hex}"]) as ends:
        assert ends == {(topic, 0): 0}


async def test_read_until_stops_at_the_ends_seen_at_start(log: LogUnderTest) -> None:
    topic = await log.create(1)
    await log.publish(topic, values("before", 3))
    reader = log.new_reader()
    async with reading(reader, [topic]) as ends:
        await log.publish(topic, [b"after"])
        messages = await read_until(reader, ends)
    assert [m.value for m in messages] == values("before", 3)


async def test_fetching_needs_a_started_reader(log: LogUnderTest) -> None:
    with pytest.raises(ReaderNotStarted):
        await log.new_reader().fetch(max_records=1, timeout_ms=10)
