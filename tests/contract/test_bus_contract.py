"""The bus contract: InMemoryBus and KafkaBus (on a real Tansu broker) behave the same."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.bus import Delivery, RetryPolicy, Subscription, SubscriptionConflict
from services.eventlog.codec import RejectedMessage, encode
from services.eventlog.deadletter import HANDLER_FAILED, DeadLetter
from services.eventlog.events import new_event
from services.eventlog.topics import TRAJECTORIES
from tests.contract.bus_under_test import BusUnderTest

pytestmark = pytest.mark.timeout(60)

QUICK_RETRIES = RetryPolicy(attempts=3, first_wait_s=0.01, max_wait_s=0.05)


def guidance(trajectory_id: str, text: str) -> pb.Event:
    return new_event(
        pb.GuidanceSubmitted(annotator="ann", text=text),
        trajectory_id=trajectory_id,
        service="contract-test",
    )


def texts(deliveries: list[Delivery]) -> list[str]:
    return [d.event.guidance_submitted.text for d in deliveries]


async def eventually(check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def dead_letters_eventually(bus_under_test: BusUnderTest, count: int) -> list[DeadLetter]:
    deadline = time.monotonic() + 15.0
    while len(letters := await bus_under_test.dead_letters()) < count:
        assert time.monotonic() < deadline, f"{len(letters)} of {count} dead letters"
        await asyncio.sleep(0.05)
    return letters


async def recording_subscription(
    bus_under_test: BusUnderTest, group: str = "recording", **options: object
) -> list[Delivery]:
    received: list[Delivery] = []

    async def record(delivery: Delivery) -> None:
        received.append(delivery)

    await bus_under_test.bus.subscribe(
        Subscription(group, (TRAJECTORIES.name,), group, record, **options)
    )
    return received


def new_trajectory_id() -> str:
    return str(uuid.uuid4())


async def test_a_published_event_reaches_the_handler_decoded(bus_under_test: BusUnderTest) -> None:
    received = await recording_subscription(bus_under_test)
    event = guidance(new_trajectory_id(), "look at the failing test first")

    await bus_under_test.bus.publish(event)

    await eventually(lambda: len(received) == 1)
    assert received[0].event == event
    assert received[0].topic == TRAJECTORIES.name


async def test_events_of_one_trajectory_arrive_in_publish_order(
    bus_under_test: BusUnderTest,
) -> None:
    received = await recording_subscription(bus_under_test)
    first, second = new_trajectory_id(), new_trajectory_id()
    events = [guidance(tid, f"{tid}:{i}") for i in range(20) for tid in (first, second)]

    await bus_under_test.bus.publish_many(events[:20])
    for event in events[20:]:
        await bus_under_test.bus.publish(event)

    await eventually(lambda: len(received) == len(events))
    for tid in (first, second):
        got = [t for t in texts(received) if t.startswith(tid)]
        assert got == [f"{tid}:{i}" for i in range(20)]


async def test_an_event_published_twice_is_handled_once(bus_under_test: BusUnderTest) -> None:
    received = await recording_subscription(bus_under_test)
    tid = new_trajectory_id()
    twice, after = guidance(tid, "twice"), guidance(tid, "after")

    await bus_under_test.bus.publish(twice)
    await bus_under_test.bus.publish_raw(TRAJECTORIES.name, tid.encode(), encode(twice))
    await bus_under_test.bus.publish(after)

    await eventually(lambda: texts(received)[-1:] == ["after"])
    assert texts(received) == ["twice", "after"]


async def test_a_malformed_message_is_dead_lettered_and_later_events_still_arrive(
    bus_under_test: BusUnderTest,
) -> None:
    received = await recording_subscription(bus_under_test)
    tid = new_trajectory_id()

    await bus_under_test.bus.publish_raw(TRAJECTORIES.name, tid.encode(), b"not an event")
    await bus_under_test.bus.publish(guidance(tid, "valid"))

    await eventually(lambda: texts(received) == ["valid"])
    [letter] = await dead_letters_eventually(bus_under_test, 1)
    assert letter.raw == b"not an event"
    assert letter.key == tid.encode()
    assert letter.error_class == "undecodable"
    assert letter.reason
    assert (letter.topic, letter.offset, letter.consumer_group) == (
        TRAJECTORIES.name,
        0,
        "recording",
    )


async def test_a_failing_handler_is_retried_then_its_event_dead_lettered(
    bus_under_test: BusUnderTest,
) -> None:
    attempts: list[str] = []
    handled: list[str] = []

    async def refuse_poison(delivery: Delivery) -> None:
        text = delivery.event.guidance_submitted.text
        attempts.append(text)
        if text == "poison":
            raise ConnectionError("sandbox unreachable")
        handled.append(text)

    await bus_under_test.bus.subscribe(
        Subscription("picky", (TRAJECTORIES.name,), "picky", refuse_poison, retry=QUICK_RETRIES)
    )
    tid = new_trajectory_id()
    await bus_under_test.bus.publish_many([guidance(tid, t) for t in ("before", "poison", "after")])

    await eventually(lambda: handled == ["before", "after"])
    assert attempts == ["before", "poison", "poison", "poison", "after"]
    [letter] = await dead_letters_eventually(bus_under_test, 1)
    assert letter.error_class == HANDLER_FAILED
    assert "ConnectionError: sandbox unreachable" in letter.reason
    assert letter.offset == 1


async def test_a_handler_that_fails_once_is_not_dead_lettered(bus_under_test: BusUnderTest) -> None:
    failures = iter([TimeoutError("model server busy")])
    handled: list[str] = []

    async def flaky(delivery: Delivery) -> None:
        if error := next(failures, None):
            raise error
        handled.append(delivery.event.guidance_submitted.text)

    await bus_under_test.bus.subscribe(
        Subscription("flaky", (TRAJECTORIES.name,), "flaky", flaky, retry=QUICK_RETRIES)
    )
    await bus_under_test.bus.publish(guidance(new_trajectory_id(), "eventually handled"))

    await eventually(lambda: handled == ["eventually handled"])
    assert await bus_under_test.dead_letters() == []


async def test_two_groups_each_get_every_event(bus_under_test: BusUnderTest) -> None:
    judge = await recording_subscription(bus_under_test, "judge")
    trainer = await recording_subscription(bus_under_test, "trainer")
    tid = new_trajectory_id()
    await bus_under_test.bus.publish_many([guidance(tid, str(i)) for i in range(10)])

    expected = [str(i) for i in range(10)]
    await eventually(lambda: texts(judge) == expected and texts(trainer) == expected)


async def test_a_subscription_for_new_events_skips_older_ones(bus_under_test: BusUnderTest) -> None:
    tid = new_trajectory_id()
    await bus_under_test.bus.publish(guidance(tid, "old"))
    received = await recording_subscription(bus_under_test, "live", from_beginning=False)

    await bus_under_test.bus.publish(guidance(tid, "new"))

    await eventually(lambda: texts(received) == ["new"])


async def test_an_invalid_event_is_refused_at_publish(bus_under_test: BusUnderTest) -> None:
    nameless = guidance(new_trajectory_id(), "who said this?")
    nameless.guidance_submitted.annotator = ""

    with pytest.raises(RejectedMessage, match="annotator"):
        await bus_under_test.bus.publish(nameless)


async def test_a_group_is_subscribed_once_per_bus(bus_under_test: BusUnderTest) -> None:
    await recording_subscription(bus_under_test, "judge")

    with pytest.raises(SubscriptionConflict, match="judge"):
        await recording_subscription(bus_under_test, "judge")
