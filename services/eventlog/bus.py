"""The event bus services use: the `Bus` protocol, its vocabulary, and `KafkaBus`.

The Kafka adapter lives in `services.eventlog.kafka`; the in-memory bus for unit tests is
`services.eventlog.memory_bus.InMemoryBus`.
"""

from __future__ import annotations

from services.eventlog.kafka.broker import KafkaTuning
from services.eventlog.kafka.bus import KafkaBus, SubscriptionNotReady
from services.eventlog.subscription import (
    AckPolicy,
    Bus,
    BusNotStarted,
    Delivery,
    Handler,
    RetryPolicy,
    Subscription,
    SubscriptionConflict,
)

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
