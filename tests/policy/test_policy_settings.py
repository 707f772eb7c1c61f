"""The policy's settings refuse a concurrency below one (shards: tests/unit/test_sharding.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.policy.settings import PolicySettings


def test_a_concurrency_below_one_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("APOLLO_POLICY_CONCURRENCY_PER_BACKEND", "0")
    with pytest.raises(ValidationError, match="policy_concurrency_per_backend"):
        PolicySettings()
