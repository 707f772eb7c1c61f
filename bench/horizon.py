"""A long trajectory on the real stack: is a step as cheap at step 4,000 as at step 10?

The embedded stack runs as a user runs it (`apollo up`: Tansu, Postgres and every service
in its own process, the bubblewrap sandbox). One scripted trajectory on a built-in task
lists, reads and searches its workspace and thinks between, for `--steps` steps, with a
low summary threshold so the context is summarized again and again. A step's time is the
time from one ActionProposed to the next (their `occurred_at`, one clock); the median over
the last 10% of steps is compared with the median over the first 10%. Beside it, from
/proc: every process's peak resident memory at step 1,000 (or a quarter of a shorter run)
and at the end, and the CPU time each spent per step in the first and the last 10%, which
points at the service whose cost grows. Prints JSON lines.

    python -m bench.horizon [--steps 4000]

`--steps 1000` takes about a minute on two shared cores; a full run took 35 minutes, most
of it the embedded broker's fetches (docs/architecture.md, "Tansu, the embedded broker").
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time

from apollo.v1 import events_pb2 as pb
from bench._processes import Sample, sample_all, stack_processes
from bench._stack import embedded_stack
from services.cli.stack.state import StackState
from services.eventlog.bus import Delivery, KafkaBus, Subscription
from services.eventlog.events import new_event_id
from services.eventlog.subscription import BATCHED_FETCH_WAIT_MS
from services.eventlog.topics import TRAJECTORIES
from services.runtime.observability import configure_logging
from services.tasks.packs import TaskCatalog
from services.tasks.starting import started_event

TASK = "data-filtering-dedup"
TARGET_RATIO = 1.2
MEMORY_STEP = 1000
# Low enough that a summary comes every few dozen steps, as in a long real run.
SUMMARY_THRESHOLD = 6000
# The work of one cycle of steps: reads of the workspace, with a thought between.
CYCLE = (
    ("list_files", {"path": "."}),
    ("think", {"thought": "The corpus is in data/; look at its first records."}),
    ("open_file", {"path": "data/corpus.jsonl", "line": 1, "context": 5}),
    ("think", {"thought": "Duplicates differ in case and punctuation only."}),
    ("search_file", {"path": "data/corpus.jsonl", "query": "the"}),
    ("think", {"thought": "Normalize before comparing."}),
)
# The whole run must end within this, or it is reported as unfinished.
RUN_LIMIT_S = 3600


def long_start(steps: int) -> pb.Event:
    """A scripted trajectory on TASK cycling through CYCLE for `steps` steps."""
    script = list(itertools.islice(itertools.cycle(CYCLE), steps))
    return started_event(
        TaskCatalog().get(TASK),
        "scripted:reference",
        started_by="bench",
        service="bench",
        budgets=pb.Budgets(max_steps=steps, max_seconds=10 * RUN_LIMIT_S),
        summary_threshold=SUMMARY_THRESHOLD,
        script=script,
    )


class Progress:
    """Notes each proposal's time and step, and samples the processes at chosen steps."""

    def __init__(self, trajectory_id: str, pids: dict[str, int], marks: set[int]) -> None:
        self._trajectory_id = trajectory_id
        self._pids = pids
        self._marks = marks
        self.proposed_at: dict[int, float] = {}
        self.samples: dict[int, dict[str, Sample]] = {}
        self.summaries = 0
        self.ended = asyncio.Event()

    async def on_delivery(self, delivery: Delivery) -> None:
        """Record what the trajectory's events say about its progress."""
        event = delivery.event
        if event.trajectory_id != self._trajectory_id:
            return
        if event.HasField("action_proposed"):
            step = event.action_proposed.step_index
            self.proposed_at.setdefault(step, event.occurred_at.ToMicroseconds() / 1000)
            if step in self._marks and step not in self.samples:
                self.samples[step] = sample_all(self._pids)
        elif event.HasField("context_summarized"):
            self.summaries += 1
        elif event.HasField("trajectory_ended"):
            self.ended.set()

    def step_ms(self, first: int, end: int) -> list[float]:
        """The time to each proposal of steps first..end-1 from the one before it."""
        at = self.proposed_at
        return [at[s] - at[s - 1] for s in range(max(first, 1), end) if s in at and s - 1 in at]


async def run(state: StackState, steps: int) -> tuple[Progress, float, float]:
    """Run the trajectory to its end; its progress, run seconds and the first 10%'s end."""
    tenth = max(steps // 10, 2)
    memory_step = MEMORY_STEP if steps > MEMORY_STEP else steps // 4
    start = long_start(steps)
    pids = stack_processes(state)
    progress = Progress(start.trajectory_id, pids, {1, tenth, steps - tenth, memory_step})
    async with KafkaBus(state.broker_address, "bench-horizon") as bus:
        group = f"bench.{new_event_id()}"
        # It reads the proposals' own times, so like the judge it can take several per fetch.
        watch = Subscription(
            "bench",
            (TRAJECTORIES.name,),
            group,
            progress.on_delivery,
            from_beginning=False,
            fetch_wait_ms=BATCHED_FETCH_WAIT_MS,
        )
        await bus.subscribe(watch)
        began = time.perf_counter()
        await bus.publish(start)
        await asyncio.wait_for(progress.ended.wait(), RUN_LIMIT_S)
        elapsed = time.perf_counter() - began
    progress.samples[steps] = sample_all(pids)
    return progress, elapsed, memory_step


def report(progress: Progress, steps: int, elapsed: float, memory_step: int) -> list[dict]:
    """The step-time line, the peak-memory line and the CPU-per-step line."""
    tenth = max(steps // 10, 2)
    first = statistics.median(progress.step_ms(1, tenth))
    last = statistics.median(progress.step_ms(steps - tenth, steps))
    samples = progress.samples
    early, late = samples[1], samples[tenth]
    before_end, end = samples[steps - tenth], samples[steps]
    memory_at = samples[memory_step]
    window = tenth - 1
    return [
        {
            "bench": "horizon",
            "metric": "step_ms_median_last_vs_first_tenth",
            "value": round(last, 2),
            "baseline": round(first, 2),
            "ratio": round(last / first, 3),
            "unit": "ms",
            "target_ratio": TARGET_RATIO,
            "steps": steps,
            "steps_proposed": len(progress.proposed_at),
            "summaries": progress.summaries,
            "run_s": round(elapsed, 1),
        },
        {
            "bench": "horizon",
            "metric": "peak_rss_mib",
            "unit": "MiB",
            "at_step": memory_step,
            "at_end": steps,
            "processes": {
                name: [memory_at[name].peak_rss_mib, end[name].peak_rss_mib] for name in end
            },
        },
        {
            "bench": "horizon",
            "metric": "cpu_ms_per_step_first_vs_last_tenth",
            "unit": "ms",
            "processes": {
                name: [
                    round((late[name].cpu_s - early[name].cpu_s) * 1000 / window, 2),
                    round((end[name].cpu_s - before_end[name].cpu_s) * 1000 / tenth, 2),
                ]
                for name in end
            },
        },
    ]


async def main() -> None:
    """Start the stack, run the trajectory, report, stop the stack."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000, help="steps of the trajectory")
    args = parser.parse_args()
    configure_logging("bench", "WARNING")
    with embedded_stack() as state:
        progress, elapsed, memory_step = await run(state, args.steps)
    for line in report(progress, args.steps, elapsed, memory_step):
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
