"""Which services the embedded stack starts: all of them, or those APOLLO_SERVICES names."""

from __future__ import annotations

import importlib

import pytest

from services.cli.stack.processes import KNOWN_SERVICES, UnknownService, chosen_services

pytestmark = pytest.mark.timeout(10)


def test_without_apollo_services_every_service_starts_in_order(monkeypatch) -> None:
    monkeypatch.delenv("APOLLO_SERVICES", raising=False)
    assert chosen_services() == list(KNOWN_SERVICES)


def test_apollo_services_narrows_them_in_start_order(monkeypatch) -> None:
    monkeypatch.setenv("APOLLO_SERVICES", "policy,recorder")
    assert chosen_services() == ["recorder", "policy"]


def test_a_service_the_stack_does_not_have_is_an_error(monkeypatch) -> None:
    monkeypatch.setenv("APOLLO_SERVICES", "recorder,trainer")
    with pytest.raises(UnknownService, match="unknown services: trainer; the stack has recorder"):
        chosen_services()


@pytest.mark.parametrize("service", KNOWN_SERVICES)
def test_every_service_entry_point_imports(service: str) -> None:
    """`python -m services.<name>` must at least load: the stack starts each one this way."""
    app = importlib.import_module(f"services.{service}.app")
    assert callable(app.main)
