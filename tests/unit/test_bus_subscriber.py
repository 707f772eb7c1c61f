"""How a Subscription becomes a FastStream subscriber: its group and acknowledgement stated."""

from __future__ import annotations

import pytest
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy as FastStreamAck

from services.eventlog.bus import AckPolicy, Delivery, KafkaBus, Subscription
from services.eventlog.kafka.broker import KafkaTuning, declare_subscriber
from services.eventlog.topics import TRAJECTORIES

pytestmark = pytest.mark.timeout(10)


async def ignore(delivery: Delivery) -> None:
    """A handler that does nothing."""


@pytest.mark.parametrize(
    ("ack", "expected"),
    [
        # At-least-once acks after the handler; FastStream's default would ack first.
        (AckPolicy.AT_LEAST_ONCE, FastStreamAck.NACK_ON_ERROR),
        (AckPolicy.AT_MOST_ONCE, FastStreamAck.ACK_FIRST),
    ],
)
def test_a_subscriber_states_its_group_and_acknowledgement(
    ack: AckPolicy, expected: FastStreamAck
) -> None:
    subscription = Subscription("judge", (TRAJECTORIES.name,), "apollo-judge", ignore, ack=ack)

    subscriber = declare_subscriber(KafkaBroker("127.0.0.1:1"), subscription, KafkaTuning())

    assert subscriber.group_id == "apollo-judge"
    assert subscriber.ack_policy is expected
    assert [topic.name for topic in subscriber.topics] == [TRAJECTORIES.name]


async def test_a_bus_registers_one_subscriber_per_subscription_before_it_starts() -> None:
    bus = KafkaBus("127.0.0.1:1", "never-started")

    await bus.subscribe(Subscription("judge", (TRAJECTORIES.name,), "judge", ignore))
    await bus.subscribe(Subscription("trainer", (TRAJECTORIES.name,), "trainer", ignore))

    assert sorted(s.group_id for s in bus.broker.subscribers) == ["judge", "trainer"]
    assert not bus.healthy


@pytest.mark.parametrize(("fetch_wait_ms", "expected"), [(None, 5), (100, 100)])
def test_a_subscription_may_fetch_at_its_own_wait_while_messages_flow(
    fetch_wait_ms: int | None, expected: int
) -> None:
    subscription = Subscription(
        "judge", (TRAJECTORIES.name,), "apollo-judge", ignore, fetch_wait_ms=fetch_wait_ms
    )

    subscriber = declare_subscriber(KafkaBroker("127.0.0.1:1"), subscription, KafkaTuning())

    assert subscriber._connection_args["fetch_max_wait_ms"] == expected
