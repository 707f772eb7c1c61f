"""Shards by hash: every trajectory belongs to exactly one shard, the shards share the work,
each reads under a group of its own, and a shard that does not exist is refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.policy.settings import PolicySettings
from services.runtime.sharding import Shard
from services.sandbox.settings import SandboxSettings


def test_every_trajectory_belongs_to_exactly_one_shard_and_the_work_is_shared() -> None:
    shards = [Shard(i, 3) for i in range(3)]
    owners = [[s.owns(f"trajectory-{n}") for s in shards].index(True) for n in range(3000)]
    for n in range(3000):
        assert sum(shard.owns(f"trajectory-{n}") for shard in shards) == 1
    assert all(900 <= owners.count(i) <= 1100 for i in range(3)), [
        owners.count(i) for i in range(3)
    ]


def test_ownership_is_stable_across_processes() -> None:
    # sha256, not hash(): a restarted pod must own the same trajectories as its predecessor.
    assert [Shard(i, 2).owns("a-trajectory") for i in range(2)] == [False, True]


def test_one_shard_owns_everything_under_the_plain_group() -> None:
    assert Shard().owns("anything")
    assert Shard().group("apollo-sandbox") == "apollo-sandbox"
    groups = {Shard(i, 2).group("apollo-sandbox") for i in range(2)}
    assert groups == {"apollo-sandbox.shard-0-of-2", "apollo-sandbox.shard-1-of-2"}


@pytest.mark.parametrize(("index", "count"), [(2, 2), (-1, 2), (0, 0)])
def test_a_shard_that_does_not_exist_is_refused(index: int, count: int) -> None:
    with pytest.raises(ValueError, match="shards are numbered"):
        Shard(index, count)


@pytest.mark.parametrize(
    ("settings", "prefix"),
    [(PolicySettings, "APOLLO_POLICY_SHARD"), (SandboxSettings, "APOLLO_SANDBOX_SHARD")],
)
def test_settings_name_their_variables_when_refusing_a_shard(
    monkeypatch, settings, prefix: str
) -> None:
    monkeypatch.setenv(f"{prefix}_INDEX", "3")
    monkeypatch.setenv(f"{prefix}_COUNT", "3")
    with pytest.raises(ValidationError, match=f"{prefix}_INDEX is 3 but {prefix}_COUNT is 3"):
        settings()
    monkeypatch.setenv(f"{prefix}_INDEX", "2")
    assert settings().shard == Shard(2, 3)
