"""KafkaBus on a real Tansu broker: commits, restarts, topics and metrics."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import REGISTRY

from apollo.v1 import events_pb2 as pb
from services.cli.stack.broker import TansuBroker
from services.eventlog.admin import ensure_topics
from services.eventlog.bus import AckPolicy, Delivery, KafkaBus, KafkaTuning, Subscription
from services.eventlog.events import new_event
from services.eventlog.processed import InMemoryProcessedEvents
from services.eventlog.topics import ALL_TOPICS, TRAJECTORIES

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

FAST_JOIN = KafkaTuning(session_timeout_ms=2000, heartbeat_interval_ms=500)


def guidance(trajectory_id: str, text: str) -> pb.Event:
    return new_event(
        pb.GuidanceSubmitted(annotator="ann", text=text),
        trajectory_id=trajectory_id,
        service="kafka-test",
    )


async def eventually(check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


class StallingHandler:
    """Records what it is given and never finishes the event with the text `stall`."""

    def __init__(self) -> None:
        self.started: list[str] = []

    async def __call__(self, delivery: Delivery) -> None:
        text = delivery.event.guidance_submitted.text
        self.started.append(text)
        if text == "stall":
            await asyncio.Event().wait()


async def run_until_stalled(address: str, ack: AckPolicy) -> str:
    handler = StallingHandler()
    async with KafkaBus(address, "first-run", tuning=FAST_JOIN) as bus:
        await bus.subscribe(Subscription("judge", (TRAJECTORIES.name,), "judge", handler, ack=ack))
        tid = str(uuid.uuid4())
        await bus.publish_many([guidance(tid, t) for t in ("done", "stall", "later")])
        await eventually(lambda: handler.started == ["done", "stall"])
    return tid


async def texts_after_restart(address: str, ack: AckPolicy, tid: str) -> list[str]:
    received: list[str] = []

    async def record(delivery: Delivery) -> None:
        received.append(delivery.event.guidance_submitted.text)

    # A new bus forgets what it processed, so only the committed offsets decide.
    async with KafkaBus(address, "second-run", tuning=FAST_JOIN) as bus:
        await bus.subscribe(Subscription("judge", (TRAJECTORIES.name,), "judge", record, ack=ack))
        await bus.publish(guidance(tid, "fresh"))
        await eventually(lambda: received[-1:] == ["fresh"])
    return received


async def test_at_least_once_redelivers_what_a_stop_interrupted_and_nothing_before(
    broker: TansuBroker,
) -> None:
    await ensure_topics(broker.address)

    tid = await run_until_stalled(broker.address, AckPolicy.AT_LEAST_ONCE)

    redelivered = await texts_after_restart(broker.address, AckPolicy.AT_LEAST_ONCE, tid)
    assert redelivered == ["stall", "later", "fresh"]


async def test_at_most_once_never_redelivers_a_message_its_handler_was_given(
    broker: TansuBroker,
) -> None:
    await ensure_topics(broker.address)

    tid = await run_until_stalled(broker.address, AckPolicy.AT_MOST_ONCE)

    # "stall" was acknowledged before its handler ran; "later" never reached a handler.
    redelivered = await texts_after_restart(broker.address, AckPolicy.AT_MOST_ONCE, tid)
    assert redelivered == ["later", "fresh"]


async def test_ensure_topics_creates_every_topic_once(broker: TansuBroker) -> None:
    created = await ensure_topics(broker.address)
    again = await ensure_topics(broker.address)

    assert sorted(created) == sorted(t.name for t in ALL_TOPICS)
    assert again == []
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.address)
    await admin.start()
    try:
        described = await admin.describe_topics([t.name for t in ALL_TOPICS])
    finally:
        await admin.close()
    partitions = {d["topic"]: len(d["partitions"]) for d in described}
    assert partitions == {t.name: t.partitions for t in ALL_TOPICS}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_count_what_the_bus_did(broker: TansuBroker) -> None:
    await ensure_topics(broker.address)
    group = f"metered-{uuid.uuid4().hex[:8]}"
    received: list[Delivery] = []

    async def record(delivery: Delivery) -> None:
        received.append(delivery)

    async with KafkaBus(broker.address, "metrics-test", tuning=FAST_JOIN) as bus:
        await bus.subscribe(Subscription(group, (TRAJECTORIES.name,), group, record))
        published_before = sample("apollo_bus_published_total", topic=TRAJECTORIES.name)
        tid = str(uuid.uuid4())
        await bus.publish_raw(TRAJECTORIES.name, tid.encode(), b"\xff garbage")
        await bus.publish_many([guidance(tid, str(i)) for i in range(5)])
        await eventually(lambda: len(received) == 5)
        assert bus.healthy

    labels = {"group": group}
    assert sample("apollo_bus_published_total", topic=TRAJECTORIES.name) - published_before == 6
    assert sample("apollo_bus_consumed_total", **labels, topic=TRAJECTORIES.name) == 6
    assert sample("apollo_bus_deadlettered_total", **labels, error_class="undecodable") == 1
    assert sample("apollo_bus_handler_seconds_count", **labels) == 5
    lag = sample("apollo_bus_consumer_lag", **labels, topic=TRAJECTORIES.name, partition="0")
    assert lag == 0


class UnreachableStore(InMemoryProcessedEvents):
    """A processed-events store whose database is down."""

    async def mark(self, consumer: str, event_id: str) -> None:
        raise ConnectionError("postgres is down")


async def test_a_failing_store_stops_the_subscription_without_committing(
    broker: TansuBroker,
) -> None:
    await ensure_topics(broker.address)
    handled: list[str] = []

    async def record(delivery: Delivery) -> None:
        handled.append(delivery.event.guidance_submitted.text)

    down = UnreachableStore()
    async with KafkaBus(broker.address, "store-down", processed=down, tuning=FAST_JOIN) as bus:
        await bus.subscribe(Subscription("judge", (TRAJECTORIES.name,), "judge", record))
        await bus.publish(guidance(str(uuid.uuid4()), "kept"))
        await eventually(lambda: not bus.healthy)

    async with KafkaBus(broker.address, "store-up", tuning=FAST_JOIN) as bus:
        await bus.subscribe(Subscription("judge", (TRAJECTORIES.name,), "judge", record))
        await eventually(lambda: handled == ["kept", "kept"])
