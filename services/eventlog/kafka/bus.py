"""KafkaBus: the bus on FastStream's `KafkaBroker`, one subscriber per subscription."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka.structs import RecordMetadata
from faststream.kafka.subscriber.usecase import DefaultSubscriber

from apollo.v1 import events_pb2 as pb
from services.eventlog.bus_metrics import PUBLISHED
from services.eventlog.kafka.broker import (
    KafkaTuning,
    PartitionsAssigned,
    declare_subscriber,
    new_broker,
)
from services.eventlog.kafka.middlewares import DeliveryRules
from services.eventlog.processed import InMemoryProcessedEvents, ProcessedEvents
from services.eventlog.subscription import (
    BusNotStarted,
    Placement,
    RawOutgoing,
    Subscription,
    check_new_group,
    wire_bytes,
)
from services.eventlog.topics import DEADLETTER, key_for, topic_for


class SubscriptionNotReady(TimeoutError):
    """A subscription's consumer group was not assigned its partitions in time."""


class KafkaBus:
    """The bus on a Kafka-protocol broker: one plain producer, one consumer per subscription."""

    def __init__(
        self,
        bootstrap: str,
        client_id: str,
        *,
        processed: ProcessedEvents | None = None,
        tuning: KafkaTuning = KafkaTuning(),
    ) -> None:
        self._tuning = tuning
        self._subscriptions: dict[str, Subscription] = {}
        self._ready: dict[str, tuple[DefaultSubscriber, PartitionsAssigned]] = {}
        # In memory, duplicates are caught within this process's lifetime only.
        rules = DeliveryRules(
            self._subscriptions, processed or InMemoryProcessedEvents(), self._send_dead_letter
        )
        self.broker = new_broker(bootstrap, client_id, rules, tuning)
        self._started = False

    async def __aenter__(self) -> KafkaBus:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def healthy(self) -> bool:
        """Started, and every subscription's consumer loop is still running."""
        return self._started and all(sub.running for sub, _ in self._ready.values())

    async def start(self) -> None:
        """Connect the producer, then start every subscription and wait for its partitions."""
        if self._started:
            return
        self._started = True
        try:
            await self.broker.start()
            await asyncio.gather(*(self._wait_ready(group) for group in self._ready))
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop the subscriptions (committing what they finished), then the producer."""
        if self._started:
            self._started = False
            await self.broker.stop()

    async def subscribe(self, subscription: Subscription) -> None:
        """Add a subscription; on a started bus it is consuming when this returns."""
        check_new_group(self._subscriptions.values(), subscription)
        self._subscriptions[subscription.group] = subscription
        assigned = PartitionsAssigned()
        subscriber = declare_subscriber(self.broker, subscription, self._tuning, assigned)
        self._ready[subscription.group] = (subscriber, assigned)
        if self._started:
            await subscriber.start()
            await self._wait_ready(subscription.group)

    async def publish(self, event: pb.Event) -> None:
        """Publish one event on its topic, keyed for its order; return once the broker has it."""
        await self.publish_raw(topic_for(event).name, key_for(event), wire_bytes(event))

    async def publish_many(self, events: Iterable[pb.Event]) -> None:
        """Publish events in order: all are checked before any is sent."""
        await self.publish_raw_many(
            [(topic_for(e).name, key_for(e), wire_bytes(e)) for e in events]
        )

    async def publish_raw(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Publish bytes as they are (testing bad input); return once the broker has them."""
        await self.publish_raw_many([(topic, key, value)])

    async def publish_raw_many(self, messages: Iterable[RawOutgoing]) -> list[Placement]:
        """Publish (topic, key, value) triples in order, pipelined; return where each landed."""
        if not self._started:
            raise BusNotStarted("start the bus (or use `async with`) before publishing")
        # aiokafka keeps one request in flight per broker, so queued sends keep their order.
        sent = [
            await self.broker.publish(value, topic, key=key, no_confirm=True)
            for topic, key, value in messages
        ]
        landed: list[RecordMetadata] = await asyncio.gather(*sent)
        for metadata in landed:
            PUBLISHED.labels(metadata.topic).inc()
        return [(m.topic, m.partition, m.offset) for m in landed]

    async def _send_dead_letter(self, key: bytes | None, value: bytes) -> None:
        await self.publish_raw(DEADLETTER.name, key, value)

    async def _wait_ready(self, group: str) -> None:
        subscriber, assigned = self._ready[group]
        try:
            await asyncio.wait_for(assigned.event.wait(), self._tuning.ready_timeout_s)
        except TimeoutError:
            raise SubscriptionNotReady(
                f"group {group!r} got no partitions within {self._tuning.ready_timeout_s}s: "
                f"is the broker up and do the topics {self._subscriptions[group].topics} "
                "exist (ensure_topics)?"
            ) from None
        # Resolving positions now means "only new messages" starts here, not at first fetch.
        consumer = subscriber.consumer
        for partition in consumer.assignment() if consumer is not None else ():
            await consumer.position(partition)
