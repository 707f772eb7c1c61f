"""Load: 50 scripted trajectories at once, watched and re-judged, vs one alone (draft).

The embedded stack runs as a user runs it (`apollo up`, the bubblewrap sandbox). First one
scripted trajectory runs alone; its step latencies (one ActionProposed to the next, by
their `occurred_at`) are the baseline. Then 50 run at once while 20 watchers hold the
gateway's live stream of them open and the archive is re-judged, again and again, under
fresh rulesets. The p99 step latency under load is compared with the baseline's; every
error (a trajectory that did not end by its step budget, a watcher's failed stream, a
failed re-judging) is counted. Each phase also reports the CPU it took: the stack's processes
per step, and how busy the machine's cores were (the stack and this process, which runs the
watchers and the re-judging), since on a small machine the load is bound by CPU, not by
waits. Prints one JSON line.

    python -m bench.load [--trajectories 50] [--steps 40] [--watchers 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import time
from dataclasses import dataclass

import httpx

from apollo.v1 import events_pb2 as pb
from bench._processes import sample_all, stack_processes
from bench._report import ratio_line
from bench._stack import embedded_stack
from bench.guidance_latency import watch
from bench.horizon import long_start
from bench.rejudge import fresh_ruleset
from services.cli.gateway_commands import add_account
from services.cli.stack.state import StackState
from services.eventlog.bus import Delivery, KafkaBus, Subscription
from services.eventlog.events import new_event_id
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import TRAJECTORIES
from services.gateway.users import Role
from services.judge.rejudge import Rejudging, Selection
from services.runtime.observability import configure_logging

TARGET_P99_RATIO = 2.0
# Each phase ends within this, finished or not (an unfinished trajectory is an error).
PHASE_LIMIT_S = 600
CORES = os.cpu_count() or 1


class Steps:
    """Notes each proposal of the trajectories it expects, and how they end."""

    def __init__(self, trajectory_ids: set[str]) -> None:
        self._expected = trajectory_ids
        self.proposed_at: dict[str, dict[int, float]] = {tid: {} for tid in trajectory_ids}
        self.end_reasons: dict[str, int] = {}
        self.all_ended = asyncio.Event()

    async def on_delivery(self, delivery: Delivery) -> None:
        """Record proposals and ends of the expected trajectories."""
        event = delivery.event
        if event.trajectory_id not in self._expected:
            return
        if event.HasField("action_proposed"):
            at = event.occurred_at.ToMicroseconds() / 1000
            self.proposed_at[event.trajectory_id].setdefault(event.action_proposed.step_index, at)
        elif event.HasField("trajectory_ended"):
            self.end_reasons[event.trajectory_id] = event.trajectory_ended.reason
            if len(self.end_reasons) == len(self._expected):
                self.all_ended.set()

    def latencies_ms(self) -> list[float]:
        """Every step's time from the proposal before it, over all trajectories."""
        return [
            at[step] - at[step - 1]
            for at in self.proposed_at.values()
            for step in at
            if step - 1 in at
        ]

    def step_count(self) -> int:
        """Proposals seen, over all trajectories."""
        return sum(len(at) for at in self.proposed_at.values())

    def errors(self) -> int:
        """Trajectories that did not end, or ended otherwise than by their step budget."""
        return sum(self.end_reasons.get(tid) != pb.END_REASON_STEP_BUDGET for tid in self._expected)


@dataclass(frozen=True)
class PhaseCpu:
    """What one phase cost the machine."""

    ms_per_step: dict[str, float]  # each stack process's CPU over the steps the phase ran
    cores_busy: float  # stack and bench CPU over the phase's wall time, as a share of all cores

    def fields(self, phase: str) -> dict[str, object]:
        """The report's fields for this phase."""
        return {
            f"{phase}_stack_cpu_ms_per_step": round(sum(self.ms_per_step.values()), 1),
            f"{phase}_cpu_ms_per_step": {n: round(ms, 1) for n, ms in self.ms_per_step.items()},
            f"{phase}_cores_busy": round(self.cores_busy, 3),
        }


class CpuMeter:
    """Reads the CPU the stack and this process spend from its creation on."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._before = self._cpu_s()
        self._own_s, self._wall_s = time.process_time(), time.monotonic()

    def _cpu_s(self) -> dict[str, float]:
        return {name: sample.cpu_s for name, sample in sample_all(self._pids).items()}

    def read(self, steps: int) -> PhaseCpu:
        """The phase's figures so far, over the `steps` it ran."""
        spent = {name: s - self._before[name] for name, s in self._cpu_s().items()}
        own_s = time.process_time() - self._own_s
        wall_s = time.monotonic() - self._wall_s
        busy = (sum(spent.values()) + own_s) / (wall_s * CORES)
        return PhaseCpu({name: 1000 * s / max(1, steps) for name, s in spent.items()}, busy)


async def run_phase(bus: KafkaBus, starts: list[pb.Event], pids: dict[str, int]):
    """Start the trajectories at once and follow them to their ends; the steps and their CPU."""
    steps = Steps({start.trajectory_id for start in starts})
    group = f"bench.{new_event_id()}"
    await bus.subscribe(
        Subscription("load", (TRAJECTORIES.name,), group, steps.on_delivery, from_beginning=False)
    )
    meter = CpuMeter(pids)
    await bus.publish_many(starts)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(steps.all_ended.wait(), PHASE_LIMIT_S)
    return steps, meter.read(steps.step_count())


async def rejudge_until(dsn: str, stop: asyncio.Event) -> tuple[int, int]:
    """Re-judge the whole archive under fresh rulesets until `stop`; (runs, failures)."""
    archive = await PgArchive.connect(dsn)
    runs = failures = 0
    try:
        while not stop.is_set():
            rejudging = Rejudging(archive, fresh_ruleset(runs), Selection())
            try:
                await rejudging.run(await rejudging.trajectory_ids())
            except Exception:  # counted: the report says how many runs failed
                failures += 1
            runs += 1
    finally:
        await archive.close()
    return runs, failures


async def loaded_phase(
    state: StackState, bus: KafkaBus, starts: list[pb.Event], watchers: int, pids: dict[str, int]
):
    """The phase under load: the trajectories, the watchers and the re-judging together."""
    token = await add_account(state.postgres_dsn, None, Role.ANNOTATOR)
    headers = {"Authorization": f"Bearer {token}"}
    received = [0] * watchers
    limits = httpx.Limits(max_connections=watchers + 10)
    stop = asyncio.Event()
    async with httpx.AsyncClient(
        base_url=state.gateway_url, headers=headers, limits=limits
    ) as client:
        streams = [
            asyncio.create_task(
                watch(client, starts[slot % len(starts)].trajectory_id, received, slot)
            )
            for slot in range(watchers)
        ]
        judging = asyncio.create_task(rejudge_until(state.postgres_dsn, stop))
        try:
            steps, cpu = await run_phase(bus, starts, pids)
        finally:
            stop.set()
            runs, failures = await judging
            for stream in streams:
                stream.cancel()
            outcomes = await asyncio.gather(*streams, return_exceptions=True)
    watcher_errors = sum(
        not isinstance(outcome, asyncio.CancelledError) for outcome in outcomes
    ) + sum(count == 0 for count in received)
    return steps, cpu, runs, failures, watcher_errors


async def measure(trajectories: int, steps: int, watchers: int) -> dict:
    """Both phases on one stack; the result line."""
    with embedded_stack() as state:
        pids = stack_processes(state)
        async with KafkaBus(state.broker_address, "bench-load") as bus:
            alone, alone_cpu = await run_phase(bus, [long_start(steps)], pids)
            starts = [long_start(steps) for _ in range(trajectories)]
            loaded, loaded_cpu, runs, failures, watcher_errors = await loaded_phase(
                state, bus, starts, watchers, pids
            )
    trajectory_errors = loaded.errors() + alone.errors()
    value = statistics.quantiles(loaded.latencies_ms(), n=100)[98]
    baseline = statistics.quantiles(alone.latencies_ms(), n=100)[98]
    return ratio_line(
        "load",
        "step_p99_ms",
        value,
        baseline,
        "ms",
        digits=2,
        target_ratio=TARGET_P99_RATIO,
        trajectories=trajectories,
        steps_each=steps,
        watchers=watchers,
        cores=CORES,
        **alone_cpu.fields("alone"),
        **loaded_cpu.fields("loaded"),
        rejudge_runs=runs,
        errors=trajectory_errors + failures + watcher_errors,
        trajectory_errors=trajectory_errors,
        rejudge_failures=failures,
        watcher_errors=watcher_errors,
    )


def main() -> None:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=50, help="trajectories under load")
    parser.add_argument("--steps", type=int, default=40, help="steps of each trajectory")
    parser.add_argument("--watchers", type=int, default=20, help="live streams held open")
    args = parser.parse_args()
    configure_logging("bench", "WARNING")
    line = asyncio.run(measure(args.trajectories, args.steps, args.watchers))
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
