"""The summarizer's settings (environment variables APOLLO_*)."""

from __future__ import annotations

from pydantic import Field

from services.runtime.settings import ServiceSettings

SUMMARIZER_GROUP = "apollo-summarizer"


class SummarizerSettings(ServiceSettings):
    """Which model summarizes, and how the log is read."""

    summarizer_group: str = Field(
        default=SUMMARIZER_GROUP,
        description="Consumer group prefix; each process start re-reads the log under a fresh "
        "group to rebuild the trajectories it summarizes",
    )
    summarizer_backend: str = Field(
        default="",
        description="Backend spec (local, anthropic:MODEL, openai:MODEL); empty uses each "
        "trajectory's own policy model. Scripted trajectories get a snapshot built from the log",
    )
    summarizer_concurrency: int = Field(
        default=4, ge=1, description="Most summarization calls in flight per backend"
    )
