"""Folding one more event into a long trajectory: its cost at step 4,000 vs at step 10.

Each service follows its trajectories through a `TrajectoryTracker`, one event at a time.
A scripted trajectory (an action, then its observation, per step; guidance every 50 steps
and a summary every 500) is fed to a fresh tracker `--repeat` times; the cost of each event
around step 4,000 is compared with the cost of each event around step 10 (medians, in µs).
Prints one JSON line.

    python -m bench.fold_cost [--steps 4000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from apollo.v1 import events_pb2 as pb
from bench._report import ratio_line
from services.eventlog.events import new_event
from services.trajectory.tracker import TrajectoryTracker

TARGET_RATIO = 1.2
EARLY_STEP = 10
# Steps on either side of the measured one whose events count as "around" it.
AROUND = 10


def scripted_events(steps: int) -> list[tuple[int, pb.Event]]:
    """(step, event) pairs of one trajectory of `steps` observed actions."""
    trajectory_id = "fold-cost"
    started = pb.TrajectoryStarted(task_id="bench", budgets=pb.Budgets(max_steps=steps + 1))
    events = [(0, new_event(started, trajectory_id=trajectory_id, service="bench"))]
    pending: list[str] = []
    for step in range(steps):
        if step % 50 == 25:
            guidance = pb.GuidanceSubmitted(annotator="bench", text="Check the tests.")
            event = new_event(guidance, trajectory_id=trajectory_id, service="bench")
            pending.append(event.event_id)
            events.append((step, event))
        call = pb.ToolCall(call_id=f"c{step}", name="run_command", arguments_json="{}")
        proposed = pb.ActionProposed(
            step_index=step, tool_call=call, delivered_guidance_ids=pending, prompt_digest="x"
        )
        pending = []
        action = new_event(proposed, trajectory_id=trajectory_id, service="bench")
        observed = pb.ObservationRecorded(
            action_id=action.event_id, step_index=step, tool_name="run_command", success=True
        )
        observation = new_event(observed, trajectory_id=trajectory_id, service="bench")
        events += [(step, action), (step, observation)]
        if step % 500 == 499:
            request = new_event(
                pb.SummaryRequested(step_index=step), trajectory_id=trajectory_id, service="bench"
            )
            summary = pb.ContextSummarized(request_id=request.event_id, summary="<s/>")
            events += [
                (step, request),
                (step, new_event(summary, trajectory_id=trajectory_id, service="bench")),
            ]
    return events


def event_costs_us(events: list[tuple[int, pb.Event]], around: tuple[int, ...]) -> dict[int, list]:
    """For each step in `around`, the µs a tracker took to follow each event near it."""
    tracker = TrajectoryTracker()
    costs: dict[int, list[float]] = {step: [] for step in around}
    for step, event in events:
        started = time.perf_counter_ns()
        tracker.follow(event)
        elapsed = (time.perf_counter_ns() - started) / 1000
        for measured in around:
            if abs(step - measured) <= AROUND:
                costs[measured].append(elapsed)
    return costs


def run(steps: int, repeat: int) -> dict:
    """Measure early and late event costs over `repeat` fresh trackers; the result line."""
    events = scripted_events(steps)
    late_step = steps - AROUND - 1
    early: list[float] = []
    late: list[float] = []
    for _ in range(repeat):
        costs = event_costs_us(events, (EARLY_STEP, late_step))
        early += costs[EARLY_STEP]
        late += costs[late_step]
    value, baseline = statistics.median(late), statistics.median(early)
    return ratio_line(
        "fold_cost",
        f"event_us_at_step_{steps}",
        value,
        baseline,
        "us",
        digits=2,
        target_ratio=TARGET_RATIO,
    )


def main() -> None:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000, help="steps of the trajectory")
    parser.add_argument("--repeat", type=int, default=5, help="fresh trackers fed the same run")
    args = parser.parse_args()
    print(json.dumps(run(args.steps, args.repeat)), flush=True)


if __name__ == "__main__":
    main()
