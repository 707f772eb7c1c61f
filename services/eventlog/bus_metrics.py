"""The bus's Prometheus metrics, counted by the middlewares in `services.eventlog.kafka`.

Metrics (prometheus_client, default registry), shared with `InMemoryBus`:

- `apollo_bus_published_total{topic}`: messages published.
- `apollo_bus_consumed_total{group,topic}`: messages a subscription read, good or bad.
- `apollo_bus_duplicates_total{group}`: deliveries skipped as already processed.
- `apollo_bus_handler_retries_total{group}`: handler attempts that failed and were retried.
- `apollo_bus_deadlettered_total{group,error_class}`: messages dead-lettered.
- `apollo_bus_handler_seconds{group}`: handler duration, per attempt.
- `apollo_bus_consumer_lag{group,topic,partition}`: messages behind the partition's end,
  as of the last fetch (Kafka only).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PUBLISHED = Counter("apollo_bus_published", "Messages published", ["topic"])
CONSUMED = Counter("apollo_bus_consumed", "Messages a subscription read", ["group", "topic"])
DUPLICATES = Counter("apollo_bus_duplicates", "Deliveries skipped as already processed", ["group"])
RETRIES = Counter("apollo_bus_handler_retries", "Failed handler attempts retried", ["group"])
DEADLETTERED = Counter(
    "apollo_bus_deadlettered", "Messages dead-lettered", ["group", "error_class"]
)
HANDLER_SECONDS = Histogram("apollo_bus_handler_seconds", "Handler duration per attempt", ["group"])
CONSUMER_LAG = Gauge(
    "apollo_bus_consumer_lag",
    "Messages behind the end of the partition",
    ["group", "topic", "partition"],
)
