"""Readiness is health plus every dependency's probe, each probe asked at most once per TTL."""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.runtime.readiness import Readiness


class CountingProbe:
    def __init__(self, up: bool) -> None:
        self.up = up
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.up


def dependency_up(name: str) -> float | None:
    return REGISTRY.get_sample_value("apollo_dependency_up", {"dependency": name})


def test_ready_when_healthy_and_every_dependency_answers() -> None:
    ready = Readiness(
        lambda: True, {"broker": CountingProbe(True), "postgres": CountingProbe(True)}
    )
    assert ready()


def test_not_ready_when_a_dependency_is_down_and_its_gauge_says_which() -> None:
    broker, postgres = CountingProbe(True), CountingProbe(False)
    ready = Readiness(lambda: True, {"broker": broker, "postgres": postgres}, ttl_s=0)
    assert not ready()
    assert dependency_up("broker") == 1
    assert dependency_up("postgres") == 0
    postgres.up = True
    assert ready()
    assert dependency_up("postgres") == 1


def test_not_ready_when_unhealthy_though_the_dependencies_answer() -> None:
    broker = CountingProbe(True)
    assert not Readiness(lambda: False, {"broker": broker})()
    assert broker.calls == 1  # the gauge stays current even when health alone decides


def test_a_probe_answer_is_reused_within_its_ttl() -> None:
    broker = CountingProbe(True)
    ready = Readiness(lambda: True, {"broker": broker}, ttl_s=60)
    for _ in range(5):
        assert ready()
    assert broker.calls == 1


def test_a_probe_is_asked_again_once_its_ttl_has_passed() -> None:
    broker = CountingProbe(True)
    ready = Readiness(lambda: True, {"broker": broker}, ttl_s=0)
    ready()
    broker.up = False
    assert not ready()
    assert broker.calls == 2
