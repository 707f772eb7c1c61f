"""The judge's Prometheus metrics (documented in docs/metrics.md)."""

from prometheus_client import Counter, Gauge, Histogram

# `ruleset` is the version the process runs under: one value per process, never an id of a
# trajectory or an action.
VERDICTS = Counter("apollo_judge_verdicts_total", "Verdicts published", ["ruleset", "verdict"])
REASONS = Counter(
    "apollo_judge_reasons_total", "Reasons given in published verdicts", ["ruleset", "rule"]
)
LAG_SECONDS = Histogram(
    "apollo_judge_lag_seconds",
    "Seconds from the event that made an action ready to its verdict being published",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600),
)
PENDING_ACTIONS = Gauge(
    "apollo_judge_pending_actions", "Proposed actions of followed trajectories not judged yet"
)
RESTORED = Counter(
    "apollo_judge_restored_trajectories_total",
    "Trajectories met mid-way (after a restart) whose earlier events were read from the archive",
)

# `model` is an llm_judge rule's backend spec, from the ruleset: a handful of values at most.
LLM_CALLS = Counter(
    "apollo_judge_llm_calls_total",
    "Calls to judge models, by outcome (answered, malformed, error)",
    ["model", "outcome"],
)
LLM_TOKENS = Counter(
    "apollo_judge_llm_tokens_total",
    "Tokens of judge-model calls, by kind (prompt, completion, cache_read, cache_write)",
    ["model", "kind"],
)
LLM_CACHE = Counter(
    "apollo_judge_llm_cache_lookups_total",
    "Lookups of judge-model answers in the cache, by result (hit, miss)",
    ["model", "result"],
)
LLM_UNJUDGED = Counter(
    "apollo_judge_llm_unjudged_total",
    "Actions kept without a judge-model answer, by cause (malformed_answer, backend_error)",
    ["model", "cause"],
)
