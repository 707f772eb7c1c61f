"""Guidance latency: submitted over HTTP → inside the next prompt of a sleeping agent.

The embedded stack runs as a user runs it (`apollo up` in a private APOLLO_HOME: Tansu,
Postgres and every service in its own process). One scripted trajectory on a built-in
task does nothing but `sleep` for minutes at a time, and 100 watchers hold the gateway's
live stream of it open. Each sample, sent once the stack has been quiet for longer than
the bus's fast-polling period, posts guidance to the gateway's HTTP API and waits
for the ActionProposed whose `delivered_guidance_ids` name it: the gateway published it,
the sandbox woke the sleep and recorded the observation, the policy rendered the next
prompt with the `<real_user>` message and proposed. The latency runs from just before the
POST to that event's `occurred_at` (one clock: everything runs on this machine). Each
percentile line also splits the path by the `occurred_at` of the events on it, each hop's
own percentile: `gateway` (POST → GuidanceSubmitted), `sandbox` (→ the ObservationRecorded of
the woken sleep) and `policy` (→ the proposal); `answered_ms` is the POST's own time, until
its 2xx, which the gateway sends once the recorder has archived the guidance.

The baseline, measured on the same broker just before the watchers connect (so that
this process's own load of 100 streams does not slow it), is the bus alone: three
publish → handler round trips, one per hop of the path (gateway → sandbox → policy →
log). Prints JSON lines.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import httpx

from apollo.v1 import events_pb2 as pb
from bench._report import PERCENTILES, percentile_lines, print_lines
from bench._stack import embedded_stack
from services.cli.gateway_commands import add_account
from services.cli.stack.state import StackState
from services.eventlog.bus import Delivery, KafkaBus, Subscription
from services.eventlog.events import new_event, new_event_id
from services.eventlog.kafka.fetch_wait import FetchPacingSettings
from services.eventlog.topics import TRAJECTORIES
from services.gateway.users import Role
from services.runtime.observability import configure_logging
from services.tasks.packs import TaskCatalog
from services.tasks.starting import started_event

TASK = "data-filtering-dedup"
WATCHERS = 100
SAMPLES = 100
WARMUP = 10
# Long enough that only guidance ends a sleep; short enough to be a sane budget.
SLEEP_S = 600
# Each sample waits after the last proposal until every consumer has gone quiet, as a real
# annotator's message arrives while the agent sleeps (the services then poll at their
# standby wait, not the wait of a consumer that just read something: fetch_wait.py).
SETTLE_S = FetchPacingSettings().quiet_after_s + 0.5
BUS_HOPS = 3
HOPS = ("gateway", "sandbox", "policy")
TARGET_P99_MS = 100
# How the gateway's SSE stream names a log event.
EVENT_MARK = b"event: apollo"
# Probes name one trajectory that never starts, so the services track one stranger, not hundreds.
PROBE_TRAJECTORY = new_event_id()
SAMPLE_TIMEOUT_S = 30


def sleeping_start() -> pb.Event:
    """A scripted trajectory on TASK whose every step is a long sleep."""
    steps = SAMPLES + WARMUP + 2
    calls = [("sleep", {"seconds": SLEEP_S})] * steps
    return started_event(
        TaskCatalog().get(TASK),
        "scripted:reference",
        started_by="bench",
        service="bench",
        budgets=pb.Budgets(max_steps=steps),
        script=calls,  # not the task's reference solution: only sleeps
    )


@dataclass(frozen=True)
class Sample:
    """One delivered guidance: the whole path and its hops, in milliseconds."""

    total_ms: float
    hops_ms: dict[str, float]
    answered_ms: float  # the POST until its answer


class Arrivals:
    """Waits for bus probes (by their own id) and for proposals (by what they answer), and
    keeps when each event of the trajectory occurred.

    A proposal may arrive before its waiter: the whole path can take less time than the
    gateway's HTTP answer naming the guidance takes to be read, so proposals nobody waits
    for yet are kept by what they answer.
    """

    def __init__(self) -> None:
        self._probes: dict[str, asyncio.Future[pb.Event]] = {}
        self._proposals: dict[str, asyncio.Future[pb.Event]] = {}
        self._early_proposals: dict[str, pb.Event] = {}
        self.occurred_at: dict[str, float] = {}

    def probe(self, event_id: str) -> asyncio.Future[pb.Event]:
        """Resolved when the probe `event_id` comes back."""
        return self._expect(self._probes, event_id)

    def proposal(self, cause_id: str) -> asyncio.Future[pb.Event]:
        """Resolved with the proposal that delivers guidance `cause_id` or follows event
        `cause_id` (the start, for the first proposal)."""
        future = self._expect(self._proposals, cause_id)
        early = self._early_proposals.pop(cause_id, None)
        if early is not None:
            self._resolve(self._proposals, [cause_id], early)
        return future

    async def on_delivery(self, delivery: Delivery) -> None:
        """Resolve the waiters the event answers."""
        event = delivery.event
        self.occurred_at[event.event_id] = event.occurred_at.ToMicroseconds() / 1e6
        if event.HasField("action_proposed"):
            keys = [event.causation_id, *event.action_proposed.delivered_guidance_ids]
            for key in keys:
                if key not in self._proposals:
                    self._early_proposals[key] = event
            self._resolve(self._proposals, keys, event)
        else:
            self._resolve(self._probes, [event.event_id], event)

    @staticmethod
    def _expect(waiting: dict[str, asyncio.Future[pb.Event]], key: str):
        future = asyncio.get_running_loop().create_future()
        waiting[key] = future
        return future

    @staticmethod
    def _resolve(waiting: dict[str, asyncio.Future[pb.Event]], keys: list[str], event):
        for key in keys:
            future = waiting.pop(key, None)
            if future is not None and not future.done():
                future.set_result(event)


async def bus_round_trip_ms(bus: KafkaBus, arrivals: Arrivals) -> float:
    """One publish → handler round trip of a probe no service acts on."""
    probe = new_event(
        pb.GuidanceSubmitted(annotator="bench", text="probe"),
        trajectory_id=PROBE_TRAJECTORY,
        service="bench",
    )
    arrived = arrivals.probe(probe.event_id)
    started = time.perf_counter()
    await bus.publish(probe)
    await asyncio.wait_for(arrived, SAMPLE_TIMEOUT_S)
    return (time.perf_counter() - started) * 1000


async def watch(client: httpx.AsyncClient, trajectory_id: str, received: list[int], slot: int):
    """Hold the gateway's live stream of the trajectory open, counting its events.

    Counted in the raw bytes, not parsed line by line: real watchers are browsers on other
    machines, so this process should spend as little of the shared CPU on them as it can.
    """
    params = {"trajectory_id": trajectory_id}
    carry = b""
    async with client.stream("GET", "/api/stream", params=params, timeout=None) as response:
        response.raise_for_status()
        async for chunk in response.aiter_raw():
            window = carry + chunk
            received[slot] += window.count(EVENT_MARK)
            # Keep a tail too short to hold a whole mark, so none is counted twice.
            carry = window[-(len(EVENT_MARK) - 1) :]


async def guidance_latency(
    client: httpx.AsyncClient, trajectory_id: str, arrivals: Arrivals, index: int
) -> Sample | None:
    """Post one guidance message; the time until the proposal whose prompt holds it (None
    if none did within SAMPLE_TIMEOUT_S: reported, not hidden)."""
    submitted_at = time.time()
    response = await client.post(
        f"/api/trajectories/{trajectory_id}/guidance",
        json={"text": f"Guidance {index}: check the duplicates first.", "kind": "advice"},
    )
    response.raise_for_status()
    answered_ms = (time.time() - submitted_at) * 1000
    guidance_id = response.json()["event_id"]
    try:
        proposal = await asyncio.wait_for(arrivals.proposal(guidance_id), SAMPLE_TIMEOUT_S)
    except TimeoutError:
        return None
    # The proposal follows the observation of the woken sleep, which follows the guidance.
    moments = [
        submitted_at,
        arrivals.occurred_at[guidance_id],
        arrivals.occurred_at[proposal.causation_id],
        arrivals.occurred_at[proposal.event_id],
    ]
    hops = {
        hop: (end - start) * 1000
        for hop, start, end in zip(HOPS, moments, moments[1:], strict=False)
    }
    return Sample((moments[-1] - submitted_at) * 1000, hops, answered_ms)


async def measure(state: StackState) -> tuple[list[Sample | None], list[float], list[int]]:
    """Latency samples, bus baselines and every watcher's received event count."""
    token = await add_account(state.postgres_dsn, None, Role.ANNOTATOR)
    headers = {"Authorization": f"Bearer {token}"}
    arrivals = Arrivals()
    received = [0] * WATCHERS
    limits = httpx.Limits(max_connections=WATCHERS + 10)
    async with (
        KafkaBus(state.broker_address, "bench-guidance") as bus,
        httpx.AsyncClient(base_url=state.gateway_url, headers=headers, limits=limits) as client,
    ):
        group = f"bench.{new_event_id()}"
        subscription = Subscription(
            "bench", (TRAJECTORIES.name,), group, arrivals.on_delivery, from_beginning=False
        )
        await bus.subscribe(subscription)
        start = sleeping_start()
        first_proposal = arrivals.proposal(start.event_id)
        await bus.publish(start)
        await asyncio.wait_for(first_proposal, SAMPLE_TIMEOUT_S)
        baselines = []
        for _ in range(SAMPLES + WARMUP):
            hops = [await bus_round_trip_ms(bus, arrivals) for _ in range(BUS_HOPS)]
            baselines.append(sum(hops))
        watchers = [
            asyncio.create_task(watch(client, start.trajectory_id, received, slot))
            for slot in range(WATCHERS)
        ]
        try:
            latencies = []
            for index in range(SAMPLES + WARMUP):
                await asyncio.sleep(SETTLE_S)
                latencies.append(
                    await guidance_latency(client, start.trajectory_id, arrivals, index)
                )
        finally:
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
    return latencies[WARMUP:], baselines[WARMUP:], received


def report(latencies: list[Sample | None], baselines: list[float], received: list[int]) -> None:
    """One JSON line per percentile of the delivered samples, with each hop's percentile,
    those never delivered within SAMPLE_TIMEOUT_S and the watchers' view of the run."""
    delivered = [sample for sample in latencies if sample is not None]
    totals = [sample.total_ms for sample in delivered]
    hop_cuts = {
        hop: statistics.quantiles([sample.hops_ms[hop] for sample in delivered], n=100)
        for hop in HOPS
    }
    answered_cuts = statistics.quantiles([sample.answered_ms for sample in delivered], n=100)
    lines = percentile_lines("guidance_latency", totals, baselines)
    for line, (_, index) in zip(lines, PERCENTILES, strict=True):
        line.update(
            hops_ms={hop: round(cuts[index], 3) for hop, cuts in hop_cuts.items()},
            answered_ms=round(answered_cuts[index], 3),
            samples=len(delivered),
            undelivered=len(latencies) - len(delivered),
            watchers=WATCHERS,
            watchers_live=sum(count > 0 for count in received),
            fewest_events_seen_by_a_watcher=min(received),
        )
        if line["metric"] == "p99_ms":
            line["target"] = TARGET_P99_MS
    print_lines(lines)


async def main() -> None:
    """Start the stack, measure, report, stop the stack."""
    configure_logging("bench", "WARNING")
    with embedded_stack() as state:
        report(*await measure(state))


if __name__ == "__main__":
    asyncio.run(main())
