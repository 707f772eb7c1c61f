"""A flood of malformed messages never stops a consumer, and each one is dead-lettered once."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf import json_format
from prometheus_client import REGISTRY

from apollo.v1 import events_pb2 as pb
from services.cli.stack.broker import TansuBroker
from services.eventlog.admin import ensure_topics
from services.eventlog.bus import Delivery, KafkaBus, KafkaTuning, Subscription
from services.eventlog.codec import encode
from services.eventlog.deadletter import DeadLetter, read_dead_letters
from services.eventlog.events import new_event
from services.eventlog.topics import TRAJECTORIES

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

MALFORMED = 10_000
VALID = 1_000
HUGE = 2 * 1024 * 1024


@dataclass(frozen=True)
class Message:
    """One message of the flood and what must become of it."""

    key: bytes
    value: bytes | None
    # The dead-letter error class it must get; None where several fit (random bytes).
    error_class: str | None
    # Set for valid events only: they must reach the handler instead.
    event_id: str = ""


def guidance(trajectory_id: str, text: str) -> pb.Event:
    return new_event(
        pb.GuidanceSubmitted(annotator="ann", text=text),
        trajectory_id=trajectory_id,
        service="flood-test",
    )


def broken(rng: random.Random, tid: str) -> tuple[bytes | None, str | None]:
    """A malformed value and its expected error class (None where several are possible)."""
    event = guidance(tid, "malformed")
    kind = rng.randrange(9)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 300)), None
    if kind == 1:
        return json.dumps(json_format.MessageToDict(event)).encode(), None
    if kind in (2, 3):
        event.schema_version = 99 if kind == 2 else 0
        return encode(event), "unsupported_version"
    if kind == 4:
        event.event_id = ""
    elif kind == 5:
        event.ClearField("guidance_submitted")
    elif kind == 6:
        event.event_id = str(uuid.uuid4())  # a UUID, but not time-ordered v7
    elif kind == 7:
        event.trajectory_id = ""
    else:
        return None, "undecodable"  # a tombstone: no value at all
    return encode(event), "invalid"


def flood(seed: int = 20261121) -> list[Message]:
    """Malformed messages with valid events spread through them, plus a few 2 MB payloads."""
    rng = random.Random(seed)
    trajectories = [str(uuid.uuid4()) for _ in range(5)]
    messages = []
    for _ in range(MALFORMED - 4):
        tid = rng.choice(trajectories)
        value, error_class = broken(rng, tid)
        messages.append(Message(tid.encode(), value, error_class))
    huge_event = guidance(trajectories[0], "x" * HUGE)
    messages += [Message(b"huge", rng.randbytes(HUGE), "oversized") for _ in range(2)]
    messages += [Message(b"huge", encode(huge_event), "oversized") for _ in range(2)]
    rng.shuffle(messages)
    for i in range(VALID):
        event = guidance(rng.choice(trajectories), f"valid {i}")
        position = rng.randrange(len(messages) + 1)
        valid = Message(event.trajectory_id.encode(), encode(event), None, event.event_id)
        messages.insert(position, valid)
    return messages


async def produce(address: str, messages: list[Message]) -> list[int]:
    """Send everything in order and return each message's offset."""
    producer = AIOKafkaProducer(
        bootstrap_servers=address, linger_ms=5, max_request_size=8 * 1024 * 1024
    )
    await producer.start()
    try:
        sent = [await producer.send(TRAJECTORIES.name, m.value, key=m.key) for m in messages]
        await producer.flush()
        return [(await future).offset for future in sent]
    finally:
        await producer.stop()


async def eventually(check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def all_dead_letters(address: str, count: int) -> list[DeadLetter]:
    deadline = time.monotonic() + 30
    while len(letters := await read_dead_letters(address)) < count:
        assert time.monotonic() < deadline, f"only {len(letters)} of {count} dead letters"
        await asyncio.sleep(0.5)
    return letters


async def test_malformed_flood_is_dead_lettered_once_each_and_valid_events_flow_in_order(
    broker: TansuBroker,
) -> None:
    await ensure_topics(broker.address)
    messages = flood()
    valid_ids = [m.event_id for m in messages if m.event_id]
    group = f"flood-{uuid.uuid4().hex[:8]}"
    delivered: list[str] = []

    async def record(delivery: Delivery) -> None:
        delivered.append(delivery.event.event_id)

    def consumed() -> float:
        labels = {"group": group, "topic": TRAJECTORIES.name}
        return REGISTRY.get_sample_value("apollo_bus_consumed_total", labels) or 0.0

    tuning = KafkaTuning(session_timeout_ms=2000, heartbeat_interval_ms=500)
    async with KafkaBus(broker.address, "flood-test", tuning=tuning) as bus:
        await bus.subscribe(Subscription(group, (TRAJECTORIES.name,), group, record))
        offsets = await produce(broker.address, messages)
        await eventually(lambda: consumed() == len(messages), timeout_s=120)
        letters = await all_dead_letters(broker.address, MALFORMED)
        assert bus.healthy

    assert delivered == valid_ids
    by_offset = dict(zip(offsets, messages, strict=True))
    lettered = Counter(letter.offset for letter in letters)
    assert len(letters) == MALFORMED
    assert set(lettered) == {offset for offset, m in by_offset.items() if not m.event_id}
    assert max(lettered.values()) == 1
    for letter in letters:
        message = by_offset[letter.offset]
        assert letter.raw == (message.value or b"")
        assert letter.key == message.key
        assert letter.reason
        assert letter.consumer_group == group
        if message.error_class is not None:
            assert letter.error_class == message.error_class, letter.reason
