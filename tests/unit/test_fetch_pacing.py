"""Fetch pacing: the short wait after activity, the idle wait once quiet, the dormant one later."""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.consumer.fetcher import Fetcher

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event
from services.eventlog.kafka.fetch_wait import (
    FetchPacing,
    FetchPacingSettings,
    PacedFetchWait,
    RunningTrajectories,
)

pytestmark = pytest.mark.timeout(10)


def pacing() -> FetchPacing:
    return FetchPacing(
        active_wait_ms=5,
        standby_wait_ms=25,
        idle_wait_ms=200,
        quiet_after_s=2.0,
        dormant_wait_ms=1000,
        dormant_after_s=30.0,
    )


def step(trajectory_id: str = "t-1") -> pb.Event:
    return new_event(pb.ActionProposed(), trajectory_id=trajectory_id, service="policy")


def end(trajectory_id: str = "t-1") -> pb.Event:
    return new_event(pb.TrajectoryEnded(), trajectory_id=trajectory_id, service="sandbox")


def test_a_consumer_that_never_read_anything_polls_at_the_dormant_wait() -> None:
    assert pacing().wait_ms(now=100.0, running=False) == 1000


def test_activity_means_the_short_wait_until_the_quiet_period_has_passed() -> None:
    paced = pacing()
    paced.note_activity(now=10.0)

    assert paced.wait_ms(now=10.0, running=False) == 5
    assert paced.wait_ms(now=11.9, running=False) == 5
    assert paced.wait_ms(now=12.0, running=False) == 200


def test_a_quiet_consumer_stands_by_while_a_trajectory_runs() -> None:
    paced = pacing()
    paced.note_activity(now=10.0)

    assert paced.wait_ms(now=11.0, running=True) == 5
    assert paced.wait_ms(now=12.0, running=True) == 25


def test_each_new_message_extends_the_fast_period() -> None:
    paced = pacing()
    paced.note_activity(now=10.0)
    paced.note_activity(now=11.5)  # still catching up

    assert paced.wait_ms(now=13.0, running=False) == 5
    assert paced.quiet_in_s(now=13.0) == pytest.approx(0.5)
    assert paced.quiet_in_s(now=13.5) is None


def test_a_consumer_configured_with_a_longer_wait_keeps_it_when_quiet() -> None:
    catch_up = FetchPacing(
        active_wait_ms=300,
        standby_wait_ms=25,
        idle_wait_ms=200,
        quiet_after_s=2,
        dormant_wait_ms=250,
        dormant_after_s=30,
    )

    assert catch_up.wait_ms(now=0.0, running=False) == 300
    assert catch_up.wait_ms(now=0.0, running=True) == 300
    catch_up.note_activity(now=0.0)
    assert catch_up.wait_ms(now=60.0, running=False) == 300


def test_a_consumer_quiet_for_long_with_nothing_running_goes_dormant() -> None:
    paced = pacing()
    paced.note_activity(now=10.0)

    assert paced.wait_ms(now=39.9, running=False) == 200
    assert paced.change_in_s(now=12.0, running=False) == pytest.approx(28.0)
    assert paced.wait_ms(now=40.0, running=False) == 1000
    assert paced.change_in_s(now=40.0, running=False) is None
    # A running trajectory keeps a standby consumer standing by, however long it is quiet.
    assert paced.wait_ms(now=400.0, running=True) == 25
    assert paced.change_in_s(now=12.0, running=True) is None
    # The next message wakes it.
    paced.note_activity(now=500.0)
    assert paced.wait_ms(now=500.0, running=False) == 5
    assert paced.change_in_s(now=500.0, running=False) == pytest.approx(2.0)


def test_a_trajectory_runs_from_its_first_event_seen_to_its_end() -> None:
    running = RunningTrajectories(silence_s=60.0)
    assert not running.any(now=0.0)

    running.note(step("t-1"), now=1.0)
    running.note(step("t-2"), now=2.0)
    running.note(end("t-1"), now=3.0)
    assert running.any(now=3.0)

    running.note(end("t-2"), now=4.0)
    assert not running.any(now=4.0)
    assert running.silent_in_s(now=4.0) is None


def test_events_off_the_run_neither_start_nor_stop_a_trajectory() -> None:
    running = RunningTrajectories(silence_s=60.0)
    verdict = new_event(pb.ActionJudged(), trajectory_id="t-1", service="judge")

    running.note(verdict, now=1.0)
    assert not running.any(now=1.0)

    running.note(step("t-1"), now=1.0)
    running.note(verdict, now=2.0)  # a verdict arriving mid-run is no end
    assert running.any(now=2.0)


def test_a_trajectory_silent_too_long_stops_counting_as_running() -> None:
    # One that crashed and never ended must not keep every consumer polling fast.
    running = RunningTrajectories(silence_s=60.0)
    running.note(step("t-1"), now=0.0)
    running.note(step("t-2"), now=30.0)
    running.note(step("t-1"), now=40.0)  # t-1 is now the most recent

    assert running.silent_in_s(now=50.0) == pytest.approx(50.0)
    assert running.any(now=95.0)  # t-2 fell silent, t-1 not yet
    assert not running.any(now=100.0)


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLO_BUS_IDLE_FETCH_WAIT_MS", "500")
    monkeypatch.setenv("APOLLO_BUS_STANDBY_FETCH_WAIT_MS", "40")
    monkeypatch.setenv("APOLLO_BUS_QUIET_AFTER_S", "5")
    monkeypatch.setenv("APOLLO_BUS_RUNNING_SILENCE_S", "600")
    monkeypatch.setenv("APOLLO_BUS_DORMANT_FETCH_WAIT_MS", "2000")
    monkeypatch.setenv("APOLLO_BUS_DORMANT_AFTER_S", "90")

    settings = FetchPacingSettings()

    assert (
        settings.idle_fetch_wait_ms,
        settings.standby_fetch_wait_ms,
        settings.quiet_after_s,
        settings.running_silence_s,
        settings.dormant_fetch_wait_ms,
        settings.dormant_after_s,
    ) == (500, 40, 5.0, 600.0, 2000, 90.0)


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


async def test_the_consumer_goes_dormant_on_its_own_once_quiet_for_long() -> None:
    consumer = SimpleNamespace(_fetcher=SimpleNamespace(_fetch_max_wait_ms=5))
    settings = FetchPacingSettings(
        idle_fetch_wait_ms=200, dormant_fetch_wait_ms=1000, quiet_after_s=0.05, dormant_after_s=0.15
    )
    paced = PacedFetchWait.for_wait(5, lambda: consumer, settings, standby=True)

    paced.activity()
    await asyncio.sleep(0.1)
    assert consumer._fetcher._fetch_max_wait_ms == 200
    await asyncio.sleep(0.1)
    assert consumer._fetcher._fetch_max_wait_ms == 1000

    paced.activity()
    assert consumer._fetcher._fetch_max_wait_ms == 5


async def test_a_standby_consumer_goes_dormant_only_after_the_run_has_ended() -> None:
    consumer = SimpleNamespace(_fetcher=SimpleNamespace(_fetch_max_wait_ms=5))
    settings = FetchPacingSettings(
        idle_fetch_wait_ms=200,
        standby_fetch_wait_ms=25,
        dormant_fetch_wait_ms=1000,
        quiet_after_s=0.05,
        dormant_after_s=0.1,
        running_silence_s=0.2,
    )
    paced = PacedFetchWait.for_wait(5, lambda: consumer, settings, standby=True)

    paced.activity()
    paced.saw(step())
    await asyncio.sleep(0.15)
    assert consumer._fetcher._fetch_max_wait_ms == 25  # standing by, past dormant_after_s
    await asyncio.sleep(0.15)
    # The run fell silent: quiet for longer than dormant_after_s, so straight to dormant.
    assert consumer._fetcher._fetch_max_wait_ms == 1000


async def test_the_consumer_stands_by_while_a_trajectory_runs_and_idles_after_its_end() -> None:
    consumer = SimpleNamespace(_fetcher=SimpleNamespace(_fetch_max_wait_ms=5))
    settings = FetchPacingSettings(
        idle_fetch_wait_ms=200, standby_fetch_wait_ms=25, quiet_after_s=0.05
    )
    paced = PacedFetchWait.for_wait(5, lambda: consumer, settings, standby=True)

    paced.activity()
    paced.saw(step())
    await asyncio.sleep(0.1)
    assert consumer._fetcher._fetch_max_wait_ms == 25

    paced.activity()  # the end arrives: fast for the quiet period, then idle, not standby
    paced.saw(end())
    assert consumer._fetcher._fetch_max_wait_ms == 5
    await asyncio.sleep(0.1)
    assert consumer._fetcher._fetch_max_wait_ms == 200


async def test_a_consumer_not_standing_by_idles_even_while_a_trajectory_runs() -> None:
    consumer = SimpleNamespace(_fetcher=SimpleNamespace(_fetch_max_wait_ms=5))
    settings = FetchPacingSettings(
        idle_fetch_wait_ms=200, standby_fetch_wait_ms=25, quiet_after_s=0.05
    )
    paced = PacedFetchWait.for_wait(5, lambda: consumer, settings)

    paced.activity()
    paced.saw(step())
    await asyncio.sleep(0.1)

    assert consumer._fetcher._fetch_max_wait_ms == 200
    assert paced.running is None  # nor does it keep the trajectories it saw


def test_aiokafka_still_reads_the_wait_it_is_paced_through() -> None:
    # The pacing sets a private attribute of aiokafka's fetcher (there is no public way to
    # change a running consumer's wait); if aiokafka renames it, this fails, not the pacing.
    assert "self._fetcher = Fetcher(" in inspect.getsource(AIOKafkaConsumer.start)
    assert "self._fetch_max_wait_ms = fetch_max_wait_ms" in inspect.getsource(Fetcher.__init__)
    assert "self._fetch_max_wait_ms," in inspect.getsource(Fetcher._get_actions_per_node)
