"""The event bus over Kafka: publishing events and explicit, idempotent subscriptions.

Subscriptions and their dispatch pipeline are in `subscription.py` (shared with
`InMemoryBus`); the metrics are listed in `bus_metrics.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError
from aiokafka.structs import ConsumerRecord

from apollo.v1 import events_pb2 as pb
from services.eventlog.bus_metrics import CONSUMER_LAG, PUBLISHED
from services.eventlog.processed import InMemoryProcessedEvents, ProcessedEvents
from services.eventlog.subscription import (
    AckPolicy,
    Bus,
    Delivery,
    Dispatcher,
    Handler,
    Placement,
    RawOutgoing,
    RetryPolicy,
    Subscription,
    SubscriptionConflict,
    check_new_group,
    wire_bytes,
)
from services.eventlog.topics import DEADLETTER, key_for, topic_for

# The subscription vocabulary is part of the bus's public face.
__all__ = [
    "AckPolicy",
    "Bus",
    "BusNotStarted",
    "Delivery",
    "Handler",
    "KafkaBus",
    "KafkaTuning",
    "RetryPolicy",
    "Subscription",
    "SubscriptionConflict",
    "SubscriptionNotReady",
]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class KafkaTuning:
    """Client settings that trade latency against throughput and failure detection."""

    # aiokafka's default of 500 ms adds up to half a second per hop on a quiet topic.
    fetch_max_wait_ms: int = 5
    # Tansu answers a group join after about half the session timeout; a shorter one
    # starts faster but evicts a consumer whose event loop stalls for that long.
    session_timeout_ms: int = 6000
    heartbeat_interval_ms: int = 1000
    # A dead letter carries the raw message, which may itself be over 1 MiB.
    max_request_size: int = 8 * 1024 * 1024
    max_partition_fetch_bytes: int = 8 * 1024 * 1024
    max_records: int = 500
    poll_timeout_ms: int = 200
    # How long start() and subscribe() wait for a subscription's partition assignment.
    ready_timeout_s: float = 30.0


class BusNotStarted(RuntimeError):
    """Publishing needs a started bus."""


class SubscriptionNotReady(TimeoutError):
    """A subscription's consumer group was not assigned its partitions in time."""


Send = Callable[[str, bytes | None, bytes], Awaitable[asyncio.Future[object]]]


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
        self._bootstrap = bootstrap
        self._client_id = client_id
        # In memory, duplicates are caught within this process's lifetime only.
        self._processed = processed or InMemoryProcessedEvents()
        self._tuning = tuning
        self._producer: AIOKafkaProducer | None = None
        self._subscriptions: list[Subscription] = []
        self._subscribers: list[_KafkaSubscriber] = []

    async def __aenter__(self) -> KafkaBus:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def healthy(self) -> bool:
        """Started, and every subscription's consumer loop is still running."""
        return self._producer is not None and all(s.running for s in self._subscribers)

    async def start(self) -> None:
        """Connect the producer, then start every subscription and wait for its partitions."""
        if self._producer is not None:
            return
        # Idempotence and transactions are off: Tansu refuses InitProducerId.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            linger_ms=0,
            max_request_size=self._tuning.max_request_size,
        )
        await self._producer.start()
        results = await asyncio.gather(
            *(self._start_subscriber(s) for s in self._subscriptions), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self.stop()
            raise failures[0]

    async def stop(self) -> None:
        """Stop the subscriptions (committing what they finished), then the producer."""
        await asyncio.gather(*(s.stop() for s in self._subscribers))
        self._subscribers.clear()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def subscribe(self, subscription: Subscription) -> None:
        """Add a subscription; on a started bus it is consuming when this returns."""
        check_new_group(self._subscriptions, subscription)
        self._subscriptions.append(subscription)
        if self._producer is not None:
            await self._start_subscriber(subscription)

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
        await (await self._send(topic, key, value))

    async def publish_raw_many(self, messages: Iterable[RawOutgoing]) -> list[Placement]:
        """Publish (topic, key, value) triples in order, pipelined; return where each landed."""
        # aiokafka keeps one request in flight per broker, so queued sends keep their order.
        sent = [await self._send(topic, key, value) for topic, key, value in messages]
        return [(m.topic, m.partition, m.offset) for m in await asyncio.gather(*sent)]

    async def _send(self, topic: str, key: bytes | None, value: bytes) -> asyncio.Future[object]:
        if self._producer is None:
            raise BusNotStarted("start the bus (or use `async with`) before publishing")
        future = await self._producer.send(topic, value, key=key)
        future.add_done_callback(_count_when_acked(topic))
        return future

    async def _start_subscriber(self, subscription: Subscription) -> None:
        subscriber = _KafkaSubscriber(
            subscription,
            self._bootstrap,
            f"{self._client_id}.{subscription.name}",
            self._tuning,
            self._processed,
            self._send,
        )
        await subscriber.start()
        self._subscribers.append(subscriber)


def _count_when_acked(topic: str) -> Callable[[asyncio.Future[object]], None]:
    def count(future: asyncio.Future[object]) -> None:
        if not future.cancelled() and future.exception() is None:
            PUBLISHED.labels(topic).inc()

    return count


class _KafkaSubscriber(ConsumerRebalanceListener):
    """One subscription's consumer loop and its commit discipline."""

    def __init__(
        self,
        subscription: Subscription,
        bootstrap: str,
        client_id: str,
        tuning: KafkaTuning,
        processed: ProcessedEvents,
        send: Send,
    ) -> None:
        self._subscription = subscription
        self._tuning = tuning
        self._send = send
        self._dispatcher = Dispatcher(subscription, processed, self._send_dead_letter)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            group_id=subscription.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if subscription.from_beginning else "latest",
            fetch_max_wait_ms=tuning.fetch_max_wait_ms,
            max_partition_fetch_bytes=tuning.max_partition_fetch_bytes,
            session_timeout_ms=tuning.session_timeout_ms,
            heartbeat_interval_ms=tuning.heartbeat_interval_ms,
        )
        self._assigned = asyncio.Event()
        # Offsets after the messages fully dealt with, not yet committed.
        self._done: dict[TopicPartition, int] = {}
        self._dead_letters_in_flight: list[asyncio.Future[object]] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Nothing to do: what was not committed is re-read and skipped as processed."""

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """The group has placed this consumer (possibly with no partitions)."""
        self._assigned.set()

    async def start(self) -> None:
        """Join the group, fix the start positions, then consume in the background."""
        await self._consumer.start()
        self._consumer.subscribe(list(self._subscription.topics), listener=self)
        try:
            await asyncio.wait_for(self._assigned.wait(), self._tuning.ready_timeout_s)
            # Resolving positions now means "only new messages" starts here, not at first fetch.
            for partition in self._consumer.assignment():
                await self._consumer.position(partition)
        except TimeoutError:
            await self._consumer.stop()
            raise SubscriptionNotReady(
                f"group {self._subscription.group!r} got no partitions within "
                f"{self._tuning.ready_timeout_s}s: is the broker up and do the topics "
                f"{self._subscription.topics} exist (ensure_topics)?"
            ) from None
        self._task = asyncio.create_task(self._run(), name=f"bus:{self._subscription.name}")

    async def stop(self) -> None:
        """Stop consuming; what was dealt with is committed on the way out."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        try:
            while True:
                batches = await self._consumer.getmany(
                    timeout_ms=self._tuning.poll_timeout_ms, max_records=self._tuning.max_records
                )
                for partition, records in batches.items():
                    await self._take(partition, records)
                if batches:
                    await self._commit_done()
        except Exception:
            log.exception("subscription stopped", subscription=self._subscription.name)
            raise
        finally:
            try:
                await self._commit_done()
            finally:
                await self._consumer.stop()

    async def _take(self, partition: TopicPartition, records: list[ConsumerRecord]) -> None:
        at_least_once = self._subscription.ack is AckPolicy.AT_LEAST_ONCE
        if not at_least_once:
            await self._consumer.commit({partition: records[-1].offset + 1})
        for record in records:
            await self._dispatcher.dispatch(record)
            if at_least_once:
                self._done[partition] = record.offset + 1
        highwater = self._consumer.highwater(partition)
        if highwater is not None:
            CONSUMER_LAG.labels(
                self._subscription.group, partition.topic, str(partition.partition)
            ).set(highwater - records[-1].offset - 1)

    async def _send_dead_letter(self, key: bytes | None, value: bytes) -> None:
        self._dead_letters_in_flight.append(await self._send(DEADLETTER.name, key, value))

    async def _commit_done(self) -> None:
        # Dead letters must be on the broker before the offsets that skip their messages.
        # wait(), unlike gather(), does not cancel the sends when a stop cancels us here.
        if self._dead_letters_in_flight:
            await asyncio.wait(self._dead_letters_in_flight)
            for sent in self._dead_letters_in_flight:
                sent.result()  # a failed send stops the loop before its offset is committed
            self._dead_letters_in_flight.clear()
        if not self._done:
            return
        try:
            await self._consumer.commit(dict(self._done))
        except CommitFailedError as error:
            # The group rebalanced; the new owner re-reads these and skips them as processed.
            log.warning("commit refused", group=self._subscription.group, error=str(error))
        self._done.clear()
