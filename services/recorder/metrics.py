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

# Domain metrics: facts of the archived log, each event counted once (domain.py). Labels are
# bounded: a task pack, a backend, an experiment label, a ruleset; never a trajectory id.
_RUN = ["task", "backend", "experiment", "purpose"]
DOMAIN_STARTED = Counter(
    "apollo_domain_trajectories_started_total", "Trajectories started, as archived", _RUN
)
DOMAIN_STEPS = Counter("apollo_domain_steps_total", "Actions proposed, as archived", _RUN)
DOMAIN_GUIDANCE = Counter(
    "apollo_domain_guidance_total",
    "Guidance messages submitted, as archived",
    ["task", "kind", "channel", "experiment", "purpose"],
)
DOMAIN_ENDED = Counter(
    "apollo_domain_trajectories_ended_total",
    "Trajectories ended, by the status they ended in, as archived",
    ["task", "status", "experiment", "purpose"],
)
DOMAIN_VERDICTS = Counter(
    "apollo_domain_verdicts_total", "Verdicts on actions, as archived", ["ruleset", "verdict"]
)
DOMAIN_VERDICT_RULES = Counter(
    "apollo_domain_verdict_rules_total",
    "Verdicts on actions by each rule among their reasons, as archived",
    ["ruleset", "verdict", "rule"],
)
DOMAIN_DATASETS = Counter(
    "apollo_domain_datasets_built_total",
    "Training datasets built, as archived",
    ["ruleset", "format"],
)
DOMAIN_DATASET_SAMPLES = Counter(
    "apollo_domain_dataset_samples_total",
    "Samples of the datasets built, by kind (react, summary, dropped), as archived",
    ["format", "kind"],
)
DOMAIN_EVAL_SCORE = Histogram(
    "apollo_domain_eval_score",
    "Final scores (0-100) of checkpoint evaluations, as archived",
    ["task", "variant"],
    buckets=tuple(range(10, 101, 10)),
)
DOMAIN_POSITION = Gauge(
    "apollo_domain_counted_position",
    "The archive position up to which the domain metrics have counted every event",
)
