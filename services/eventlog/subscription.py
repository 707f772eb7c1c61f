"""The bus's vocabulary: subscriptions, deliveries, acknowledgement and retry policies.

What every bus does around a handler (decode, deduplicate, retry, dead-letter, count) is
in the FastStream middlewares of `services.eventlog.kafka.middlewares`.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from apollo.v1 import events_pb2 as pb
from services.eventlog.codec import decode, encode


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


# The fetch wait of a consumer that no step waits on (the judge), or only a step that waits
# on a model anyway (the summarizer): each of its fetches takes what arrived within it, and
# each fetch that returns data costs Tansu a pass over the partition's history
# (docs/architecture.md), so fewer fetches keep a long trajectory's steps cheaper.
BATCHED_FETCH_WAIT_MS = 100


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
    # Once quiet, poll at the standby wait instead of the idle one while a trajectory it has
    # read runs: for consumers on the path of guidance into the next prompt (fetch_wait.py).
    standby: bool = False
    # The fetch wait while messages flow; None takes the bus's (a few ms). A consumer that no
    # step waits on may take BATCHED_FETCH_WAIT_MS.
    fetch_wait_ms: int | None = None


class BusNotStarted(RuntimeError):
    """Publishing needs a started bus."""


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
