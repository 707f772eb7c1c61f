"""The sandbox's Prometheus metrics (default registry).

- `apollo_sandbox_tool_calls_total{tool,success}`: tool calls by outcome ("null" = no tool).
- `apollo_sandbox_tool_seconds{tool}`: time to run a tool call, evaluation included.
- `apollo_sandbox_trajectories_active`: trajectories with a live runtime in this process.
- `apollo_sandbox_duplicate_actions_total`: re-delivered actions not run again.
- `apollo_sandbox_ignored_events_total`: events of trajectories this sandbox never started.
- `apollo_sandbox_interrupted_actions_total`: actions found started-but-unfinished on restart.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

TOOL_CALLS = Counter("apollo_sandbox_tool_calls", "Tool calls by outcome", ["tool", "success"])
TOOL_SECONDS = Histogram(
    "apollo_sandbox_tool_seconds",
    "Time to run a tool call",
    ["tool"],
    buckets=(0.005, 0.02, 0.1, 0.5, 1, 2.5, 5, 10, 30, 120, 600, 1800),
)
ACTIVE = Gauge("apollo_sandbox_trajectories_active", "Trajectories with a live runtime")
DUPLICATES = Counter("apollo_sandbox_duplicate_actions", "Re-delivered actions not run again")
INTERRUPTED = Counter(
    "apollo_sandbox_interrupted_actions", "Actions found started but unfinished on restart"
)
REPUBLISHED = Counter(
    "apollo_sandbox_republished_events",
    "Recorded events published again on start because the archive lacked them",
)
IGNORED = Counter(
    "apollo_sandbox_ignored_events", "Events of trajectories this sandbox never started"
)
