"""InMemoryBus: the bus inside one process, for unit tests of services."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass

from aiokafka.structs import ConsumerRecord
from faststream.kafka import TestKafkaBroker
from faststream.kafka.subscriber.usecase import DefaultSubscriber

from apollo.v1 import events_pb2 as pb
from services.eventlog.bus_metrics import PUBLISHED
from services.eventlog.kafka.broker import KafkaTuning, declare_subscriber, new_broker
from services.eventlog.kafka.middlewares import DeliveryRules
from services.eventlog.processed import InMemoryProcessedEvents, ProcessedEvents
from services.eventlog.subscription import (
    AckPolicy,
    BusNotStarted,
    Placement,
    RawOutgoing,
    Subscription,
    check_new_group,
    wire_bytes,
)
from services.eventlog.topics import DEADLETTER, key_for, topic_for


@dataclass(frozen=True)
class Record:
    """A message on an in-memory topic (one partition per topic)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    def consumer_record(self) -> ConsumerRecord:
        """The record as a Kafka consumer would hand it over."""
        return ConsumerRecord(
            topic=self.topic,
            partition=self.partition,
            offset=self.offset,
            timestamp=0,
            timestamp_type=0,
            key=self.key,
            value=self.value,
            checksum=None,
            serialized_key_size=len(self.key or b""),
            serialized_value_size=len(self.value or b""),
            headers=(),
        )


class InMemoryBus:
    """KafkaBus's interface and delivery rules, with each topic a list in memory.

    Each message goes through the FastStream subscriber and middlewares KafkaBus uses, on
    FastStream's `TestKafkaBroker`. The test broker alone will not do: it hands a publish
    straight to the handlers and keeps no log, so it cannot start a group at the oldest
    message, resume a restarted group after what it dealt with, or show what was published.
    """

    def __init__(self, *, processed: ProcessedEvents | None = None) -> None:
        self._topics: dict[str, list[Record]] = defaultdict(list)
        # (group, topic) -> offset of the next message the group has not dealt with;
        # kept across stop/start like a broker's committed offsets.
        self._committed: dict[tuple[str, str], int] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._rules = DeliveryRules(
            self._subscriptions, processed or InMemoryProcessedEvents(), self._send_dead_letter
        )
        self._test_brokers = AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []
        self._appended = asyncio.Condition()
        self._started = False

    async def __aenter__(self) -> InMemoryBus:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def healthy(self) -> bool:
        """Started, and every subscription's loop is still running."""
        return self._started and all(not task.done() for task in self._tasks)

    def records(self, topic: str) -> list[Record]:
        """Everything published on a topic so far, dead letters included (for assertions)."""
        return list(self._topics[topic])

    async def start(self) -> None:
        """Start delivering to every subscription."""
        if self._started:
            return
        self._started = True
        for subscription in self._subscriptions.values():
            await self._follow(subscription)

    async def stop(self) -> None:
        """Stop delivering; a message whose handler was interrupted is delivered again."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._test_brokers.aclose()
        self._started = False

    async def subscribe(self, subscription: Subscription) -> None:
        """Add a subscription; on a started bus it is consuming when this returns."""
        check_new_group(self._subscriptions.values(), subscription)
        self._subscriptions[subscription.group] = subscription
        if self._started:
            await self._follow(subscription)

    async def publish(self, event: pb.Event) -> None:
        """Publish one event on its topic."""
        await self.publish_raw(topic_for(event).name, key_for(event), wire_bytes(event))

    async def publish_many(self, events: Iterable[pb.Event]) -> None:
        """Publish events in order: all are checked before any is appended."""
        await self.publish_raw_many(
            [(topic_for(e).name, key_for(e), wire_bytes(e)) for e in events]
        )

    async def publish_raw_many(self, messages: Iterable[RawOutgoing]) -> list[Placement]:
        """Append (topic, key, value) triples in order; return where each landed."""
        placements = []
        for topic, key, value in messages:
            await self.publish_raw(topic, key, value)
            placements.append((topic, 0, len(self._topics[topic]) - 1))
        return placements

    async def publish_raw(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Append bytes as they are."""
        if not self._started:
            raise BusNotStarted("start the bus (or use `async with`) before publishing")
        records = self._topics[topic]
        records.append(Record(topic, 0, len(records), key, value))
        PUBLISHED.labels(topic).inc()
        async with self._appended:
            self._appended.notify_all()

    async def _send_dead_letter(self, key: bytes | None, value: bytes) -> None:
        await self.publish_raw(DEADLETTER.name, key, value)

    async def _follow(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            start = 0 if subscription.from_beginning else len(self._topics[topic])
            self._committed.setdefault((subscription.group, topic), start)
        # A broker per subscription: the test broker sets up only what it finds on entering.
        broker = new_broker("in-memory", "in-memory", self._rules, KafkaTuning())
        subscriber = declare_subscriber(broker, subscription, KafkaTuning())
        await self._test_brokers.enter_async_context(TestKafkaBroker(broker))
        task = asyncio.create_task(
            self._consume(subscription, subscriber), name=f"bus:{subscription.name}"
        )
        self._tasks.append(task)

    async def _consume(self, subscription: Subscription, subscriber: DefaultSubscriber) -> None:
        while True:
            async with self._appended:
                record = await self._appended.wait_for(lambda: self._next(subscription))
            position = (subscription.group, record.topic)
            if subscription.ack is AckPolicy.AT_MOST_ONCE:
                self._committed[position] = record.offset + 1
            # Raises only when a dead letter or the processed store fails: the loop stops.
            await subscriber.process_message(record.consumer_record())
            self._committed[position] = record.offset + 1

    def _next(self, subscription: Subscription) -> Record | None:
        for topic in subscription.topics:
            offset = self._committed[(subscription.group, topic)]
            if offset < len(self._topics[topic]):
                return self._topics[topic][offset]
        return None
