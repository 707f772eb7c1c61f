"""Subscriptions and the dispatch every bus shares: decode, deduplicate, retry, dead-letter."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import structlog
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_exponential

from apollo.v1 import events_pb2 as pb
from services.eventlog.bus_metrics import (
    CONSUMED,
    DEADLETTERED,
    DUPLICATES,
    HANDLER_SECONDS,
    RETRIES,
)
from services.eventlog.codec import RejectedMessage, decode, encode
from services.eventlog.deadletter import (
    HandlerFailure,
    RawMessage,
    Rejection,
    dead_letter_for,
)
from services.eventlog.processed import ProcessedEvents

log = structlog.get_logger(__name__)


class AckPolicy(enum.Enum):
    """When a subscription's offsets are committed, relative to its handler."""

    # After the handler returned (or the message was dead-lettered): nothing is lost.
    AT_LEAST_ONCE = "at_least_once"
    # Before the handler runs: a crash mid-handler skips the message.
    AT_MOST_ONCE = "at_most_once"


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing handler is retried before its message is dead-lettered."""

    attempts: int = 3
    first_wait_s: float = 0.1
    max_wait_s: float = 2.0


@dataclass(frozen=True)
class Delivery:
    """One decoded event handed to a subscription's handler, and where it was read."""

    event: pb.Event
    topic: str
    partition: int
    offset: int


Handler = Callable[[Delivery], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """A handler, the topics it reads and the consumer group it reads them as."""

    name: str
    topics: tuple[str, ...]
    group: str
    handler: Handler
    ack: AckPolicy = AckPolicy.AT_LEAST_ONCE
    # Where a group with no committed offset starts: the oldest message, or only new ones.
    from_beginning: bool = True
    retry: RetryPolicy = RetryPolicy()


class SubscriptionConflict(ValueError):
    """A consumer group may be subscribed only once per bus."""


# A message as published: topic name, key, value bytes.
RawOutgoing = tuple[str, bytes | None, bytes]
# Where a published message landed: topic name, partition, offset.
Placement = tuple[str, int, int]


class Bus(Protocol):
    """What services publish and subscribe through (KafkaBus, InMemoryBus)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, event: pb.Event) -> None: ...
    async def publish_many(self, events: Iterable[pb.Event]) -> None: ...
    async def publish_raw(self, topic: str, key: bytes | None, value: bytes) -> None: ...
    async def publish_raw_many(self, messages: Iterable[RawOutgoing]) -> list[Placement]: ...
    async def subscribe(self, subscription: Subscription) -> None: ...


def wire_bytes(event: pb.Event) -> bytes:
    """The bytes to publish; raises `RejectedMessage` for what consumers would dead-letter."""
    raw = encode(event)
    decode(raw)  # refuse bad events at the edge instead of in every consumer
    return raw


def check_new_group(subscriptions: Iterable[Subscription], subscription: Subscription) -> None:
    """Refuse a second subscription of one group on one bus (it would split its messages)."""
    if any(s.group == subscription.group for s in subscriptions):
        raise SubscriptionConflict(
            f"group {subscription.group!r} is already subscribed on this bus; "
            "give each subscription its own group"
        )


SendDeadLetter = Callable[[bytes | None, bytes], Awaitable[None]]


class Dispatcher:
    """Decode → skip duplicates → run the handler with retries → dead-letter what fails."""

    def __init__(
        self, subscription: Subscription, processed: ProcessedEvents, send: SendDeadLetter
    ) -> None:
        self._subscription = subscription
        self._group = subscription.group
        self._processed = processed
        self._send = send

    async def dispatch(self, message: RawMessage) -> None:
        """Deal with one message; raises only when the dead-letter send or the store fails."""
        CONSUMED.labels(self._group, message.topic).inc()
        try:
            event = decode(message.value)
        except RejectedMessage as rejection:
            await self._dead_letter(message, rejection)
            return
        if await self._processed.seen(self._group, event.event_id):
            DUPLICATES.labels(self._group).inc()
            return
        delivery = Delivery(event, message.topic, message.partition, message.offset)
        policy = self._subscription.retry
        try:
            await self._handle(delivery, policy)
        # A handler is arbitrary service code: whatever it raises must not stop the loop.
        except Exception as error:
            await self._dead_letter(message, HandlerFailure.after(error, policy.attempts))
        # A dead-lettered event is dealt with too: a redelivery must not dead-letter it twice.
        await self._processed.mark(self._group, event.event_id)

    async def _handle(self, delivery: Delivery, policy: RetryPolicy) -> None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.attempts),
            wait=wait_exponential(multiplier=policy.first_wait_s, max=policy.max_wait_s),
            before_sleep=self._note_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt, HANDLER_SECONDS.labels(self._group).time():
                await self._subscription.handler(delivery)

    def _note_retry(self, state: RetryCallState) -> None:
        RETRIES.labels(self._group).inc()
        log.warning(
            "handler failed, retrying",
            group=self._group,
            attempt=state.attempt_number,
            error=repr(state.outcome.exception()),
        )

    async def _dead_letter(self, message: RawMessage, rejection: Rejection) -> None:
        letter = dead_letter_for(message, rejection, self._group)
        await self._send(message.key, letter.SerializeToString())
        DEADLETTERED.labels(self._group, rejection.error_class).inc()
        log.warning(
            "dead-lettered",
            group=self._group,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            error_class=rejection.error_class,
            reason=rejection.reason,
        )
