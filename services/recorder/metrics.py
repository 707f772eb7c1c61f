"""The recorder's Prometheus metrics (documented in docs/metrics.md)."""

from prometheus_client import Counter, Gauge, Histogram

ARCHIVED = Counter("apollo_recorder_events_archived_total", "Events newly appended to the archive")
DUPLICATES = Counter(
    "apollo_recorder_duplicates_total", "Events read again but already archived (redelivery)"
)
DEAD_LETTERS = Counter(
    "apollo_recorder_deadlettered_total",
    "Messages the recorder rejected and dead-lettered",
    ["error_class"],
)
BATCH_SECONDS = Histogram(
    "apollo_recorder_batch_seconds", "Time to archive one batch in one transaction"
)
LAG = Gauge(
    "apollo_recorder_lag_messages",
    "Messages on the broker not yet archived",
    ["topic", "partition"],
)
