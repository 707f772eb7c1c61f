"""InMemoryBus, the fake services test against, and the rules it shares with KafkaBus."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY

from apollo.v1 import events_pb2 as pb
from services.eventlog.bus import BusNotStarted, Delivery, KafkaBus, Subscription
from services.eventlog.codec import RejectedMessage
from services.eventlog.events import new_event
from services.eventlog.memory_bus import InMemoryBus
from services.eventlog.processed import InMemoryProcessedEvents
from services.eventlog.topics import TRAJECTORIES

pytestmark = pytest.mark.timeout(10)


def guidance(text: str) -> pb.Event:
    return new_event(
        pb.GuidanceSubmitted(annotator="ann", text=text),
        trajectory_id=str(uuid.uuid4()),
        service="unit-test",
    )


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.001)


class Recorder:
    """A handler that keeps the text of every guidance it is given."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def __call__(self, delivery: Delivery) -> None:
        self.texts.append(delivery.event.guidance_submitted.text)

    def subscription(self, group: str) -> Subscription:
        return Subscription(group, (TRAJECTORIES.name,), group, self)


@pytest.mark.parametrize(
    "make_bus", [InMemoryBus, lambda: KafkaBus("127.0.0.1:1", "never-started")]
)
async def test_publishing_on_a_bus_that_is_not_started_is_refused(
    make_bus: Callable[[], InMemoryBus | KafkaBus],
) -> None:
    with pytest.raises(BusNotStarted):
        await make_bus().publish(guidance("too early"))


async def test_one_invalid_event_in_a_batch_publishes_none_of_it() -> None:
    nameless = guidance("who said this?")
    nameless.guidance_submitted.annotator = ""

    async with InMemoryBus() as bus:
        with pytest.raises(RejectedMessage):
            await bus.publish_many([guidance("fine"), nameless])

        assert bus.records(TRAJECTORIES.name) == []


async def test_a_restarted_bus_resumes_each_group_after_what_it_dealt_with() -> None:
    bus, judge = InMemoryBus(), Recorder()
    await bus.subscribe(judge.subscription("judge"))
    async with bus:
        await bus.publish(guidance("before"))
        await eventually(lambda: judge.texts == ["before"])

    async with bus:
        await bus.publish(guidance("after"))
        await eventually(lambda: len(judge.texts) == 2)

    assert judge.texts == ["before", "after"]


async def test_a_shared_processed_store_skips_events_another_bus_handled() -> None:
    processed, judge = InMemoryProcessedEvents(), Recorder()
    event = guidance("once")
    for run in ("first", "second"):  # a redeployed judge reading a log that holds it again
        async with InMemoryBus(processed=processed) as bus:
            await bus.subscribe(judge.subscription("judge"))
            await bus.publish_many([event, guidance(run)])
            await eventually(lambda run=run: judge.texts[-1:] == [run])

    assert judge.texts == ["once", "first", "second"]


async def test_dead_letters_and_duplicates_are_counted_per_group() -> None:
    group = f"metered-{uuid.uuid4().hex[:8]}"
    judge, event = Recorder(), guidance("twice")

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, {"group": group, **labels}) or 0.0

    async with InMemoryBus() as bus:
        await bus.subscribe(judge.subscription(group))
        await bus.publish_raw(TRAJECTORIES.name, b"k", b"\xff")
        await bus.publish_many([event, event])
        await eventually(lambda: sample("apollo_bus_duplicates_total") == 1)

    assert sample("apollo_bus_consumed_total", topic=TRAJECTORIES.name) == 3
    assert sample("apollo_bus_deadlettered_total", error_class="undecodable") == 1
    assert judge.texts == ["twice"]


async def test_a_stopped_bus_is_not_healthy() -> None:
    bus = InMemoryBus()
    await bus.subscribe(Recorder().subscription("judge"))
    async with bus:
        assert bus.healthy

    assert not bus.healthy


def test_the_in_memory_bus_imports_no_postgres_driver() -> None:
    imported = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert imported.stdout.strip() == "False"


PROBE = "import sys, services.eventlog.memory_bus; print('asyncpg' in sys.modules)"


class FlakyStore(InMemoryProcessedEvents):
    """A processed-events store whose database can go away."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def mark(self, consumer: str, event_id: str) -> None:
        if self.down:
            raise ConnectionError("postgres is down")
        await super().mark(consumer, event_id)


async def test_a_failing_processed_store_stops_the_subscription_and_keeps_its_message() -> None:
    store, judge = FlakyStore(), Recorder()
    bus = InMemoryBus(processed=store)
    await bus.subscribe(judge.subscription("judge"))
    async with bus:
        await bus.publish(guidance("kept"))
        await eventually(lambda: not bus.healthy)

    store.down = False
    async with bus:  # the restarted service reads the message again
        await eventually(lambda: judge.texts == ["kept", "kept"])
        assert bus.healthy
