"""The gateway's Prometheus metrics (documented in docs/metrics.md)."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "apollo_gateway_http_requests_total",
    "HTTP requests answered, by route template and status code",
    ["route", "status"],
)
GUIDANCE_SUBMITTED = Counter(
    "apollo_gateway_guidance_submitted_total",
    "GuidanceSubmitted events published, by kind and channel",
    ["kind", "channel"],
)
STEP_LABELS = Counter(
    "apollo_gateway_step_labels_total", "StepLabeled events published, by label", ["label"]
)
WATCHERS = Gauge("apollo_gateway_watchers", "Open live streams (SSE and gRPC watches)")
ATTENTION_SECONDS = Counter(
    "apollo_gateway_attention_seconds_total",
    "Annotator attention time recorded, in seconds, by annotator (a signed-in user's name)",
    ["annotator"],
)
ATTENTION_RESPONSE_SECONDS = Histogram(
    "apollo_gateway_attention_response_seconds",
    "From a trajectory being flagged for attention to the first guidance submitted on it",
    buckets=(5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200),
)
NEEDING_ATTENTION = Gauge(
    "apollo_gateway_trajectories_needing_attention",
    "Running trajectories that drift signals flag for a human",
)
SIGN_INS_THROTTLED = Counter(
    "apollo_gateway_sign_ins_throttled_total",
    "Sign-ins and token calls refused because their address sent too many wrong tokens",
    ["api"],
)
