"""The recorder's settings (environment variables APOLLO_*)."""

from __future__ import annotations

from pydantic import Field

from services.runtime.settings import ServiceSettings

RECORDER_GROUP = "apollo-recorder"
# Archived events the domain metrics count per read; every one of them may need its labels.
DOMAIN_PAGE = 1000


class RecorderSettings(ServiceSettings):
    """Where to read, where to archive, and how much per transaction."""

    recorder_group: str = Field(
        default=RECORDER_GROUP,
        min_length=1,
        description="Name the archived offsets are stored under (no Kafka group is joined)",
    )
    recorder_batch_size: int = Field(
        default=500, ge=1, description="Most messages archived in one transaction"
    )
    recorder_poll_ms: int = Field(
        default=100, ge=1, description="Longest wait for a batch before archiving what arrived"
    )
    recorder_metrics_poll_ms: int = Field(
        default=1000,
        ge=1,
        description="How often the domain metrics count what was archived since the last read",
    )
    recorder_zero_hold_ms: int = Field(
        default=35_000,
        ge=0,
        description="How long a new domain series is exported at zero before it is added to:"
        " longer than the scrape interval (the shipped configs scrape every 15 s or 30 s)",
    )
    recorder_label_cache_size: int = Field(
        default=10_000,
        ge=DOMAIN_PAGE,
        description="Trajectories whose metric labels (task, backend, experiment) stay in memory",
    )
