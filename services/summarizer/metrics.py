"""The summarizer's Prometheus metrics (documented in docs/metrics.md)."""

from prometheus_client import Counter, Histogram

SUMMARIES = Counter(
    "apollo_summarizer_summaries_total", "Summaries recorded", ["backend", "source"]
)
MODEL_SECONDS = Histogram(
    "apollo_summarizer_model_seconds",
    "Wall time of one summarization call",
    ["backend"],
    buckets=(0.01, 0.1, 1, 5, 10, 30, 60, 120, 300, 600),
)
MODEL_TOKENS = Counter(
    "apollo_summarizer_model_tokens_total",
    "Tokens of the summarization calls, by kind (prompt, completion, and the prompt's "
    "cache_read and cache_write parts)",
    ["backend", "kind"],
)
BACKEND_ERRORS = Counter(
    "apollo_summarizer_backend_errors_total", "Failed summarization calls", ["backend"]
)
