"""Step-cycle overhead: scripted policy + no-op tool, proposed → observed → next proposed.

One trajectory runs on a private Tansu broker through KafkaBus: the policy service with
a scripted backend, and `EchoSandbox` answering each action with an instant observation.
The time from one ActionProposed to the next is one step cycle; it is compared with two
raw bus round trips (publish → handler) measured in the same run. Prints JSON lines.
"""

from __future__ import annotations

import asyncio
import itertools
import time

from apollo.v1 import events_pb2 as pb
from bench._echo_sandbox import EchoSandbox
from bench._report import percentile_lines, print_lines
from bench._scripted import scripted_start
from services.cli.stack.broker import TansuBroker
from services.eventlog.admin import ensure_topics
from services.eventlog.bus import Bus, Delivery, KafkaBus, KafkaTuning, Subscription
from services.eventlog.events import new_event, new_event_id
from services.eventlog.topics import ALL_TOPICS, TRAJECTORIES
from services.policy.backends import Backends
from services.policy.service import PolicyService
from services.policy.settings import PolicySettings
from services.runtime.observability import configure_logging

STEPS = 600
WARMUP = 50
TUNING = KafkaTuning(session_timeout_ms=2000, heartbeat_interval_ms=500)
NOOP_TOOL = pb.ToolSpec(name="think", description="Note a thought.", parameters_json_schema="{}")


class Stopwatch:
    """Notes when each ActionProposed of one trajectory arrives, and raw round trips."""

    def __init__(self) -> None:
        self.proposed_at: list[float] = []
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.ended = asyncio.Event()

    async def on_delivery(self, delivery: Delivery) -> None:
        """Time every proposal; answer probes."""
        event = delivery.event
        now = time.perf_counter()
        if event.HasField("action_proposed"):
            self.proposed_at.append(now)
        elif event.HasField("trajectory_ended"):
            self.ended.set()
        elif event.event_id in self.waiting:
            self.waiting.pop(event.event_id).set_result(now)

    async def round_trip_ms(self, bus: Bus) -> float:
        """Publish a probe (guidance of no trajectory in play) and wait for it."""
        probe = new_event(
            pb.GuidanceSubmitted(annotator="bench", text="probe"),
            trajectory_id=new_event_id(),
            service="bench",
        )
        arrived = asyncio.get_running_loop().create_future()
        self.waiting[probe.event_id] = arrived
        started = time.perf_counter()
        await bus.publish(probe)
        return (await arrived - started) * 1000


async def measure(address: str) -> tuple[list[float], list[float]]:
    """Step cycles of one scripted trajectory, then as many pairs of raw round trips."""
    settings = PolicySettings(kafka=address, policy_replay_grace_s=0)
    watch = Stopwatch()
    async with KafkaBus(address, "bench-step", tuning=TUNING) as bus:
        await bus.subscribe(Subscription("watch", (TRAJECTORIES.name,), "watch", watch.on_delivery))
        await EchoSandbox(bus).start()
        policy = PolicyService(bus, Backends(settings.policy_concurrency_per_backend), settings)
        await policy.start()
        await bus.publish(scripted_start(STEPS, [NOOP_TOOL], [("think", {})] * STEPS))
        await asyncio.wait_for(watch.ended.wait(), timeout=300)
        cycles = [(b - a) * 1000 for a, b in itertools.pairwise(watch.proposed_at)]
        pairs = []
        for _ in range(len(cycles)):
            pairs.append(await watch.round_trip_ms(bus) + await watch.round_trip_ms(bus))
        await policy.stop()
    return cycles[WARMUP:], pairs[WARMUP:]


def report(cycles: list[float], baseline: list[float]) -> None:
    """One JSON line per percentile: step cycle, two raw round trips, their ratio."""
    print_lines(percentile_lines("step_cycle", cycles, baseline))


async def main() -> None:
    """Start a private broker, measure, report, stop the broker."""
    configure_logging("bench", "WARNING")
    broker = TansuBroker().start()
    try:
        await ensure_topics(broker.address, ALL_TOPICS)
        report(*await measure(broker.address))
    finally:
        broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
