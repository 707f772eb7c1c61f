"""The policy's Prometheus metrics (documented in docs/metrics.md)."""

from prometheus_client import Counter, Gauge, Histogram

STEPS = Counter("apollo_policy_steps_total", "Actions proposed", ["backend"])
NULL_ACTIONS = Counter(
    "apollo_policy_null_actions_total", "Actions proposed without a valid tool call", ["kind"]
)
MODEL_SECONDS = Histogram(
    "apollo_policy_model_seconds",
    "Wall time of one model call",
    ["backend"],
    buckets=(0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
)
PROMPT_TOKENS = Histogram(
    "apollo_policy_prompt_tokens",
    "Prompt size of each proposal, in the backend's tokens",
    buckets=(1_000, 4_000, 16_000, 32_000, 64_000, 100_000, 128_000),
)
MODEL_TOKENS = Counter(
    "apollo_policy_model_tokens_total",
    "Tokens of the model calls behind proposals, by kind (prompt, completion, and the "
    "prompt's cache_read and cache_write parts)",
    ["backend", "kind"],
)
SUMMARIES_REQUESTED = Counter(
    "apollo_policy_summaries_requested_total", "Summaries requested at the token threshold"
)
DISCARDED = Counter(
    "apollo_policy_discarded_total",
    "Model answers not proposed because the log moved on during the call",
)
BACKEND_ERRORS = Counter(
    "apollo_policy_backend_errors_total", "Failed model calls", ["backend", "error_class"]
)
TRAJECTORIES = Gauge("apollo_policy_trajectories", "Running trajectories whose state is held")
