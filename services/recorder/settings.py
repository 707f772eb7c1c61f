"""The recorder's settings (environment variables APOLLO_*)."""

from __future__ import annotations

from pydantic import Field

from services.runtime.settings import ServiceSettings

RECORDER_GROUP = "apollo-recorder"


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
