"""The policy's settings refuse a shard that does not exist, and split the work between shards."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.policy.settings import PolicySettings


def test_a_shard_index_at_or_past_the_count_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("APOLLO_POLICY_SHARD_INDEX", "2")
    monkeypatch.setenv("APOLLO_POLICY_SHARD_COUNT", "2")
    with pytest.raises(ValidationError, match="shards are numbered 0 to 1"):
        PolicySettings()


def test_a_concurrency_below_one_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("APOLLO_POLICY_CONCURRENCY_PER_BACKEND", "0")
    with pytest.raises(ValidationError, match="policy_concurrency_per_backend"):
        PolicySettings()


def test_every_trajectory_belongs_to_exactly_one_shard() -> None:
    shards = [PolicySettings(policy_shard_index=i, policy_shard_count=3) for i in range(3)]
    for n in range(50):
        assert sum(shard.owns(f"trajectory-{n}") for shard in shards) == 1
