"""The `apollo` command's settings: an empty variable is unset, so the stack is asked instead."""

from __future__ import annotations

from pathlib import Path

from services.cli.settings import CliSettings
from services.cli.stack.home import ApolloHome


def test_an_empty_variable_counts_as_unset(monkeypatch) -> None:
    monkeypatch.setenv("APOLLO_KAFKA", "")
    monkeypatch.setenv("APOLLO_TOKEN", "")
    settings = CliSettings()
    assert settings.kafka is None
    assert settings.token is None


def test_the_home_is_apollo_home_when_set(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("APOLLO_HOME", str(tmp_path))
    assert ApolloHome.resolve().root == tmp_path.resolve()


def test_without_apollo_home_the_stack_lives_in_the_user_data_dir(monkeypatch) -> None:
    monkeypatch.delenv("APOLLO_HOME", raising=False)
    assert ApolloHome.resolve().root == (Path.home() / ".local" / "share" / "apollo").resolve()
