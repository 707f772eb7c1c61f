"""The FastStream broker every bus runs on, and how a `Subscription` becomes its subscriber."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import DefaultSubscriber
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy as FastStreamAck

from services.eventlog.codec import decode
from services.eventlog.kafka.fetch_wait import FetchPacingSettings, PacedFetchWait
from services.eventlog.kafka.middlewares import DeliveryRules
from services.eventlog.subscription import AckPolicy, Delivery, Subscription


@dataclass(frozen=True)
class KafkaTuning:
    """Client settings that trade latency against throughput and failure detection."""

    # aiokafka's default of 500 ms adds up to half a second per hop: Tansu is slow to wake
    # a long poll when a message arrives, so a busy consumer polls often; `pacing` says
    # how it slows down once quiet (fetch_wait.py).
    fetch_max_wait_ms: int = 5
    pacing: FetchPacingSettings = field(default_factory=FetchPacingSettings)
    # Tansu answers a group join after about half the session timeout; a shorter one
    # starts faster but evicts a consumer whose event loop stalls for that long.
    session_timeout_ms: int = 6000
    heartbeat_interval_ms: int = 1000
    # A dead letter carries the raw message, which may itself be over 1 MiB.
    max_request_size: int = 8 * 1024 * 1024
    max_partition_fetch_bytes: int = 8 * 1024 * 1024
    # How long start() and subscribe() wait for a subscription's partition assignment.
    ready_timeout_s: float = 30.0


# Ours → FastStream's. At-least-once acks (commits) after the handler returned or the message
# was dead-lettered, and seeks back to redeliver when even that failed; at-most-once commits
# as it reads (FastStream's default, which is why every subscriber states its policy).
_ACK_POLICIES = {
    AckPolicy.AT_LEAST_ONCE: FastStreamAck.NACK_ON_ERROR,
    AckPolicy.AT_MOST_ONCE: FastStreamAck.ACK_FIRST,
}


def new_broker(
    bootstrap: str, client_id: str, rules: DeliveryRules, tuning: KafkaTuning
) -> KafkaBroker:
    """A broker whose subscribers run `rules`' middlewares and receive a `Delivery`."""
    # No idempotent producer or transactions: Tansu refuses InitProducerId.
    return KafkaBroker(
        bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        linger_ms=0,
        max_request_size=tuning.max_request_size,
        # Topics are created with their partition counts by `ensure_topics`, never implicitly.
        allow_auto_create_topics=False,
        middlewares=rules.middlewares(),
        # Handlers take the `Delivery` the decoder builds, not a body FastStream validates.
        apply_types=False,
        # Stopping cancels a running handler instead of waiting for it: its message is not
        # acknowledged, so at-least-once redelivers it to the next owner of the partition.
        graceful_timeout=None,
        # FastStream's own lines (connection trouble, errors) join the service's log; its
        # line per message stays below the services' level.
        logger=logging.getLogger("apollo.bus"),
        log_level=logging.DEBUG,
    )


async def decode_delivery(message: StreamMessage[Any]) -> Delivery:
    """The decoded event and where it was read; raises `RejectedMessage` for a bad message."""
    record = message.raw_message
    return Delivery(decode(record.value), record.topic, record.partition, record.offset)


class PartitionsAssigned(ConsumerRebalanceListener):
    """Notes when the group has placed a subscriber's consumer (possibly with no partitions)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Nothing to do: what was not committed is re-read and skipped as processed."""

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """The subscription is placed: it counts as ready."""
        self.event.set()


class PacedRebalance(ConsumerRebalanceListener):
    """Counts a new assignment as activity (catching up is likely), then tells `inner`."""

    def __init__(self, paced: PacedFetchWait, inner: ConsumerRebalanceListener | None) -> None:
        self._paced = paced
        self._inner = inner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Passed on."""
        if self._inner is not None:
            await self._inner.on_partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Poll fast for now; passed on."""
        self._paced.activity()
        if self._inner is not None:
            await self._inner.on_partitions_assigned(assigned)


def declare_subscriber(
    broker: KafkaBroker,
    subscription: Subscription,
    tuning: KafkaTuning,
    listener: ConsumerRebalanceListener | None = None,
) -> DefaultSubscriber:
    """Register `subscription` on `broker`: its group, offset reset and acknowledgement stated,
    its fetch wait paced by its traffic (and, standing by, the trajectories it sees running)."""
    active_wait_ms = subscription.fetch_wait_ms or tuning.fetch_max_wait_ms
    paced = PacedFetchWait.for_wait(
        active_wait_ms, lambda: subscriber.consumer, tuning.pacing, subscription.standby
    )

    async def paced_decode(message: StreamMessage[Any]) -> Delivery:
        paced.activity()  # even a message that fails to decode is traffic
        delivery = await decode_delivery(message)
        paced.saw(delivery.event)
        return delivery

    subscriber = broker.subscriber(
        *subscription.topics,
        group_id=subscription.group,
        auto_offset_reset="earliest" if subscription.from_beginning else "latest",
        ack_policy=_ACK_POLICIES[subscription.ack],
        fetch_max_wait_ms=active_wait_ms,
        max_partition_fetch_bytes=tuning.max_partition_fetch_bytes,
        session_timeout_ms=tuning.session_timeout_ms,
        heartbeat_interval_ms=tuning.heartbeat_interval_ms,
        listener=PacedRebalance(paced, listener),
        decoder=paced_decode,
        title=subscription.name,
        include_in_schema=False,
    )

    async def handle(delivery: Delivery) -> None:
        await subscription.handler(delivery)

    subscriber(handle)
    return subscriber
