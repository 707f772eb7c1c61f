"""Steps per second with 200 concurrent scripted trajectories on one policy process.

A private Tansu broker, one in-process PolicyService with scripted backends and
`EchoSandbox` (instant no-op observations), each on its own KafkaBus. All trajectories
start at once; the rate is the completed steps (ActionProposed) per second between the
10th and 90th percentile of their arrival times, leaving out ramp-up and drain. The
baseline in the same run is as many ping → echo → ping chains on the bare bus: the two
events a step publishes, with handlers that do nothing else. Prints JSON lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable

from apollo.v1 import events_pb2 as pb
from bench._echo_sandbox import EchoSandbox
from bench._scripted import scripted_start
from bench.step_cycle import NOOP_TOOL, TUNING
from services.cli.stack.broker import TansuBroker
from services.eventlog.admin import ensure_topics
from services.eventlog.bus import Delivery, KafkaBus, Subscription
from services.eventlog.events import new_event, new_event_id
from services.eventlog.topics import ALL_TOPICS, TRAJECTORIES
from services.policy.backends import Backends
from services.policy.service import PolicyService
from services.policy.settings import PolicySettings
from services.runtime.observability import configure_logging

CONCURRENT = 200
STEPS_EACH = 40
# Each phase stops here even if unfinished, so a slow build still reports within a minute.
PHASE_LIMIT_S = 15.0
TARGET = 500


class StepClock:
    """Notes the arrival time of every event that completes a step, until all are in."""

    def __init__(self, expected: int, is_step: Callable[[pb.Event], bool]) -> None:
        self.times: list[float] = []
        self._expected = expected
        self._is_step = is_step
        self.done = asyncio.Event()

    async def on_delivery(self, delivery: Delivery) -> None:
        """Count steps."""
        if self._is_step(delivery.event):
            self.times.append(time.perf_counter())
            if len(self.times) >= self._expected:
                self.done.set()

    async def wait(self) -> None:
        """Until every step arrived or the phase limit passed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.done.wait(), PHASE_LIMIT_S)

    def steady_rate(self) -> float:
        """Steps per second between the 10th and 90th percentile arrivals."""
        times = sorted(self.times)
        if len(times) < 10:
            return 0.0
        low, high = len(times) // 10, len(times) * 9 // 10
        return (high - low) / (times[high] - times[low])


async def policy_rate(address: str) -> tuple[float, int]:
    """Steady steps/s of CONCURRENT scripted trajectories, and the steps completed."""
    settings = PolicySettings(kafka=address, policy_replay_grace_s=0)
    clock = StepClock(CONCURRENT * STEPS_EACH, lambda e: e.HasField("action_proposed"))
    starts = [
        scripted_start(STEPS_EACH, [NOOP_TOOL], [("think", {})] * STEPS_EACH)
        for _ in range(CONCURRENT)
    ]
    async with (
        KafkaBus(address, "bench-sandbox", tuning=TUNING) as sandbox_bus,
        KafkaBus(address, "bench-policy", tuning=TUNING) as policy_bus,
    ):
        await sandbox_bus.subscribe(
            Subscription("clock", (TRAJECTORIES.name,), "clock", clock.on_delivery)
        )
        await EchoSandbox(sandbox_bus).start()
        policy = PolicyService(
            policy_bus, Backends(settings.policy_concurrency_per_backend), settings
        )
        await policy.start()
        await sandbox_bus.publish_many(starts)
        await clock.wait()
        await policy.stop()
    return clock.steady_rate(), len(clock.times)


class PingPong:
    """CONCURRENT chains of ping → pong → ping ... on the bare bus, STEPS_EACH rounds each."""

    def __init__(self, pinger: KafkaBus, echo: KafkaBus) -> None:
        self._pinger = pinger
        self._echo = echo
        self.clock = StepClock(CONCURRENT * STEPS_EACH, lambda e: _text(e) == "pong")
        self._rounds: dict[str, int] = {}

    async def start(self) -> None:
        """Subscribe both sides to new messages only (the policy phase's are behind)."""
        for bus, name, handler in (
            (self._echo, "echo", self._on_ping),
            (self._pinger, "pinger", self._on_pong),
            (self._pinger, "pong-clock", self.clock.on_delivery),
        ):
            await bus.subscribe(
                Subscription(name, (TRAJECTORIES.name,), name, handler, from_beginning=False)
            )

    async def run(self) -> None:
        """Start every chain at once and wait for them."""
        chains = [new_event_id() for _ in range(CONCURRENT)]
        self._rounds = dict.fromkeys(chains, 0)
        await self._pinger.publish_many(_message(chain, "ping") for chain in chains)
        await self.clock.wait()

    async def _on_ping(self, delivery: Delivery) -> None:
        if _text(delivery.event) == "ping":
            await self._echo.publish(_message(delivery.event.trajectory_id, "pong"))

    async def _on_pong(self, delivery: Delivery) -> None:
        chain = delivery.event.trajectory_id
        if _text(delivery.event) != "pong" or chain not in self._rounds:
            return
        self._rounds[chain] += 1
        if self._rounds[chain] < STEPS_EACH:
            await self._pinger.publish(_message(chain, "ping"))


def _message(chain: str, text: str) -> pb.Event:
    body = pb.GuidanceSubmitted(annotator="bench", text=text)
    return new_event(body, trajectory_id=chain, service="bench")


def _text(event: pb.Event) -> str:
    return event.guidance_submitted.text if event.HasField("guidance_submitted") else ""


async def bus_rate(address: str) -> float:
    """Steady ping-pong rounds/s: the bus's own ceiling for two-event steps."""
    async with (
        KafkaBus(address, "bench-pinger", tuning=TUNING) as pinger,
        KafkaBus(address, "bench-echo", tuning=TUNING) as echo,
    ):
        chains = PingPong(pinger, echo)
        await chains.start()
        await chains.run()
    return chains.clock.steady_rate()


async def main() -> None:
    """Start a private broker, measure both phases, report, stop the broker."""
    configure_logging("bench", "WARNING")
    broker = TansuBroker().start()
    try:
        await ensure_topics(broker.address, ALL_TOPICS)
        steps_per_s, completed = await policy_rate(broker.address)
        baseline = await bus_rate(broker.address)
    finally:
        broker.stop()
    line = {
        "bench": "steps_throughput",
        "metric": "steps_per_s",
        "value": round(steps_per_s, 1),
        "baseline": round(baseline, 1),
        "ratio": round(steps_per_s / baseline, 3) if baseline else None,
        "unit": "steps/s",
        "target": TARGET,
        "trajectories": CONCURRENT,
        "steps_completed": completed,
    }
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
