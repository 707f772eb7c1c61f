"""Fetch pacing: the short wait after activity, the idle wait once quiet."""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.consumer.fetcher import Fetcher

from services.eventlog.kafka.fetch_wait import (
    FetchPacing,
    FetchPacingSettings,
    PacedFetchWait,
)

pytestmark = pytest.mark.timeout(10)


def pacing() -> FetchPacing:
    return FetchPacing(active_wait_ms=5, idle_wait_ms=200, quiet_after_s=2.0)


def test_a_consumer_that_never_read_anything_polls_at_the_idle_wait() -> None:
    assert pacing().wait_ms(now=100.0) == 200


def test_activity_means_the_short_wait_until_the_quiet_period_has_passed() -> None:
    paced = pacing()
    paced.note_activity(now=10.0)

    assert paced.wait_ms(now=10.0) == 5
    assert paced.wait_ms(now=11.9) == 5
    assert paced.wait_ms(now=12.0) == 200


def test_each_new_message_extends_the_fast_period() -> None:
    paced = pacing()
    paced.note_activity(now=10.0)
    paced.note_activity(now=11.5)  # still catching up

    assert paced.wait_ms(now=13.0) == 5
    assert paced.quiet_in_s(now=13.0) == pytest.approx(0.5)
    assert paced.quiet_in_s(now=13.5) is None


def test_a_consumer_configured_with_a_longer_wait_keeps_it_when_idle() -> None:
    catch_up = FetchPacing(active_wait_ms=300, idle_wait_ms=200, quiet_after_s=2.0)

    assert catch_up.wait_ms(now=0.0) == 300


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLO_BUS_IDLE_FETCH_WAIT_MS", "500")
    monkeypatch.setenv("APOLLO_BUS_QUIET_AFTER_S", "5")

    settings = FetchPacingSettings()

    assert (settings.idle_fetch_wait_ms, settings.quiet_after_s) == (500, 5.0)


async def test_the_consumer_falls_back_to_the_idle_wait_on_its_own_once_quiet() -> None:
    consumer = SimpleNamespace(_fetcher=SimpleNamespace(_fetch_max_wait_ms=5))
    settings = FetchPacingSettings(idle_fetch_wait_ms=200, quiet_after_s=0.05)
    paced = PacedFetchWait.for_wait(5, lambda: consumer, settings)

    paced.activity()
    assert consumer._fetcher._fetch_max_wait_ms == 5
    await asyncio.sleep(0.03)
    paced.activity()  # moves the deadline: the first timer must not fall back early
    await asyncio.sleep(0.03)
    assert consumer._fetcher._fetch_max_wait_ms == 5
    await asyncio.sleep(0.06)
    assert consumer._fetcher._fetch_max_wait_ms == 200

    paced.activity()
    assert consumer._fetcher._fetch_max_wait_ms == 5


def test_aiokafka_still_reads_the_wait_it_is_paced_through() -> None:
    # The pacing sets a private attribute of aiokafka's fetcher (there is no public way to
    # change a running consumer's wait); if aiokafka renames it, this fails, not the pacing.
    assert "self._fetcher = Fetcher(" in inspect.getsource(AIOKafkaConsumer.start)
    assert "self._fetch_max_wait_ms = fetch_max_wait_ms" in inspect.getsource(Fetcher.__init__)
    assert "self._fetch_max_wait_ms," in inspect.getsource(Fetcher._get_actions_per_node)
