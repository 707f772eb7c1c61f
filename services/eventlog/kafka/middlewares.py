"""What every subscription does around its handler, as FastStream middlewares written once.

The broker enters them in order for each message: `StopOnBusFailure` stops the subscription
when the bus itself failed, `BusMetrics` counts the message, `Deduplication` decodes it and
skips what the group already handled, `DeadLettering` turns a rejection into a dead letter
instead of an error, `Retrying` runs the handler with backoff. Each message's
group, and through it its `Subscription`, comes from the FastStream subscriber handling it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from faststream import BaseMiddleware
from faststream.exceptions import IgnoredException
from faststream.kafka.subscriber.usecase import LogicSubscriber
from faststream.message import StreamMessage
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_exponential

from services.eventlog.bus_metrics import (
    CONSUMED,
    CONSUMER_LAG,
    DEADLETTERED,
    DUPLICATES,
    HANDLER_SECONDS,
    RETRIES,
)
from services.eventlog.codec import RejectedMessage
from services.eventlog.deadletter import HandlerFailure, dead_letter_for
from services.eventlog.processed import ProcessedEvents
from services.eventlog.subscription import Delivery, Subscription

log = structlog.get_logger(__name__)

SendDeadLetter = Callable[[bytes | None, bytes], Awaitable[None]]
CallNext = Callable[[StreamMessage[Any]], Awaitable[Any]]


class HandlerFailed(Exception):
    """A handler failed on every attempt its retry policy allows."""

    def __init__(self, failure: HandlerFailure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


@dataclass(frozen=True)
class DeliveryRules:
    """What the middlewares need from their bus: subscriptions, handled ids, dead-letter send."""

    subscriptions: Mapping[str, Subscription]  # by consumer group; the bus adds to it
    processed: ProcessedEvents
    send_dead_letter: SendDeadLetter
    _stopping: set[asyncio.Task[None]] = field(default_factory=set)

    def stop_later(self, subscriber: LogicSubscriber[Any]) -> None:
        """Stop `subscriber` in a task of its own."""
        task = asyncio.create_task(subscriber.stop(), name="bus:stop-failed-subscription")
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    def middlewares(self) -> tuple[Callable[..., BaseMiddleware], ...]:
        """The broker's middlewares, outermost first."""
        kinds = (StopOnBusFailure, BusMetrics, Deduplication, DeadLettering, Retrying)
        return tuple(partial(kind, rules=self) for kind in kinds)


class _SubscriptionMiddleware(BaseMiddleware):
    """A middleware that knows the subscription whose message it is handling."""

    # The broker also builds its middlewares for each publish (with no message), so the
    # subscriber and group are looked up only when a message is consumed.
    def __init__(
        self, msg: ConsumerRecord | None, /, *, context: Any, rules: DeliveryRules
    ) -> None:
        super().__init__(msg, context=context)
        self.rules = rules

    @property
    def record(self) -> ConsumerRecord:
        return self.msg

    @property
    def subscriber(self) -> LogicSubscriber[Any]:
        return self.context.get_local("handler_")

    @property
    def group(self) -> str:
        return self.subscriber.group_id

    @property
    def subscription(self) -> Subscription:
        return self.rules.subscriptions[self.group]


class StopOnBusFailure(_SubscriptionMiddleware):
    """Stops the subscription, its message unacknowledged, when a dead letter or a store fails.

    Handler errors never get here (they are dead-lettered): what does is the bus's own
    infrastructure failing, and a stopped subscription makes the service unhealthy instead
    of re-reading the message in a tight loop.
    """

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool:
        if isinstance(exc_val, Exception) and not isinstance(exc_val, IgnoredException):
            log.error("subscription stopped", group=self.group, error=repr(exc_val))
            # From another task: a subscriber stopping itself would cancel its own shutdown.
            self.rules.stop_later(self.subscriber)
        return False


class BusMetrics(_SubscriptionMiddleware):
    """Counts each message read and how far its group is behind the partition's end."""

    async def on_receive(self) -> None:
        if self.msg is None:
            return  # a publish
        CONSUMED.labels(self.group, self.record.topic).inc()
        consumer = self.subscriber.consumer
        if not isinstance(consumer, AIOKafkaConsumer):
            return  # the in-memory bus has no broker to be behind
        partition = TopicPartition(self.record.topic, self.record.partition)
        if (highwater := consumer.highwater(partition)) is not None:
            CONSUMER_LAG.labels(self.group, partition.topic, str(partition.partition)).set(
                highwater - self.record.offset - 1
            )


class Deduplication(_SubscriptionMiddleware):
    """Decodes the event, skips an `event_id` the group handled, marks it once it is dealt with."""

    event_id = ""

    async def consume_scope(self, call_next: CallNext, msg: StreamMessage[Any]) -> Any:
        delivery: Delivery = await msg.decode()  # a RejectedMessage goes to DeadLettering
        event_id = delivery.event.event_id
        if await self.rules.processed.seen(self.group, event_id):
            DUPLICATES.labels(self.group).inc()
            return None
        self.event_id = event_id
        return await call_next(msg)

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool:
        # No error reaches here once DeadLettering has sent a failed event's letter: a dead-
        # lettered event is dealt with too, and a redelivery must not dead-letter it twice.
        if exc_type is None and self.event_id:
            await self.rules.processed.mark(self.group, self.event_id)
        return False


class DeadLettering(_SubscriptionMiddleware):
    """Sends a rejected message or a failed event to the dead-letter topic, and goes on."""

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool:
        if isinstance(exc_val, HandlerFailed):
            rejection: RejectedMessage | HandlerFailure = exc_val.failure
        elif isinstance(exc_val, RejectedMessage):
            rejection = exc_val
        else:
            return False
        letter = dead_letter_for(self.record, rejection, self.group)
        # Awaited to the broker: the offset that skips the message is committed after this.
        await self.rules.send_dead_letter(self.record.key, letter.SerializeToString())
        DEADLETTERED.labels(self.group, rejection.error_class).inc()
        log.warning(
            "dead-lettered",
            group=self.group,
            topic=self.record.topic,
            partition=self.record.partition,
            offset=self.record.offset,
            error_class=rejection.error_class,
            reason=rejection.reason,
        )
        return True


class Retrying(_SubscriptionMiddleware):
    """Runs the handler again with exponential backoff; raises `HandlerFailed` when it gives up."""

    async def consume_scope(self, call_next: CallNext, msg: StreamMessage[Any]) -> Any:
        policy = self.subscription.retry
        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.attempts),
            wait=wait_exponential(multiplier=policy.first_wait_s, max=policy.max_wait_s),
            before_sleep=self._note_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt, HANDLER_SECONDS.labels(self.group).time():
                    return await call_next(msg)
        # A handler is arbitrary service code: whatever it raises must not stop the consumer.
        except Exception as error:
            raise HandlerFailed(HandlerFailure.after(error, policy.attempts)) from error
        return None

    def _note_retry(self, state: RetryCallState) -> None:
        RETRIES.labels(self.group).inc()
        log.warning(
            "handler failed, retrying",
            group=self.group,
            attempt=state.attempt_number,
            error=repr(state.outcome.exception() if state.outcome else None),
        )
