"""The policy's settings (environment variables APOLLO_*)."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field, model_validator

from services.runtime.settings import ServiceSettings
from services.runtime.sharding import Shard

POLICY_GROUP = "apollo-policy"


class PolicySettings(ServiceSettings):
    """How the policy reads the log and how hard it may drive each model backend."""

    policy_group: str = Field(
        default=POLICY_GROUP,
        description="Consumer group prefix; each process start reads the log from the beginning "
        "under a fresh group to rebuild every trajectory's state",
    )
    policy_concurrency_per_backend: int = Field(
        default=16, ge=1, description="Most model calls in flight per backend (spec)"
    )
    policy_replay_grace_s: float = Field(
        default=1.0,
        ge=0,
        description="Wait before acting on a turn that only history (events older than this "
        "process) makes: replay usually shows the action was already proposed",
    )
    policy_retry_wait_s: float = Field(
        default=5.0, gt=0, description="Wait after a transient backend failure before trying again"
    )
    policy_shard_index: int = Field(
        default=0,
        ge=0,
        description="This process's shard; it acts on trajectories whose hash "
        "modulo policy_shard_count equals it",
    )
    policy_shard_count: int = Field(
        default=1, ge=1, description="Policy processes sharing the work"
    )

    @model_validator(mode="after")
    def _shard_in_range(self) -> PolicySettings:
        _ = self.shard  # building it checks the index against the count
        return self

    @cached_property
    def shard(self) -> Shard:
        """The trajectories this process acts on."""
        return Shard(self.policy_shard_index, self.policy_shard_count, "APOLLO_POLICY_SHARD")
