"""Following one more event of a long trajectory: its cost at step 4,000 vs at step 10.

Each service follows its trajectories through a `TrajectoryTracker`, one event at a time;
the judge also settles the steps each event completes and judges the actions made due
under the `default` rules (the rules look back over the whole trajectory: runs of calls,
files read before, masked actions to propagate). A scripted trajectory (reads of one file
and thoughts between, an action then its observation per step; guidance every 50 steps
and a summary every 500) is fed to a fresh follower `--repeat` times; the cost of each event
around step 4,000 is compared with the cost of each event around step 10 (medians, in µs).
Prints one JSON line per follower.

    python -m bench.fold_cost [--steps 4000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from apollo.v1 import events_pb2 as pb
from bench._report import print_lines, ratio_line
from services.eventlog.events import new_event
from services.judge.following import FollowedTrajectories
from services.judge.ruleset import shipped_ruleset
from services.judge.verdicts import judge_action
from services.trajectory.tracker import TrajectoryTracker

TARGET_RATIO = 1.2
EARLY_STEP = 10
# Steps on either side of the measured one whose events count as "around" it.
AROUND = 10
# The calls of a cycle of steps: one file read again and again, thoughts between.
CALLS = (
    ("list_files", {"path": "."}),
    ("open_file", {"path": "data/corpus.jsonl", "line": 1}),
    ("think", {"thought": "Duplicates differ in case only."}),
    ("search_file", {"path": "data/corpus.jsonl", "query": "the"}),
)


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
        name, arguments = CALLS[step % len(CALLS)]
        call = pb.ToolCall(call_id=f"c{step}", name=name, arguments_json=json.dumps(arguments))
        proposed = pb.ActionProposed(
            step_index=step, tool_call=call, delivered_guidance_ids=pending, prompt_digest="x"
        )
        pending = []
        action = new_event(proposed, trajectory_id=trajectory_id, service="bench")
        observed = pb.ObservationRecorded(
            action_id=action.event_id, step_index=step, tool_name=name, success=True
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


def tracker_follower() -> Callable[[pb.Event], object]:
    """What every service does with an event: fold it into its trajectory's state."""
    return TrajectoryTracker().follow


def judge_follower() -> Callable[[pb.Event], object]:
    """What the live judge does with an event: fold it, then judge the actions it made due."""
    ruleset = shipped_ruleset("default")
    followed = FollowedTrajectories(ruleset)

    def follow(event: pb.Event) -> None:
        followed.apply(event)
        due = followed.due(event.trajectory_id)
        for item in due:
            judge_action(item.view, item.position, ruleset)
        followed.record_published(event.trajectory_id, [item.action.event_id for item in due])

    return follow


FOLLOWERS = {"event_us": tracker_follower, "judge_event_us": judge_follower}


def event_costs_us(
    events: list[tuple[int, pb.Event]], follow: Callable[[pb.Event], object], around: tuple
) -> dict[int, list]:
    """For each step in `around`, the µs `follow` took for each event near it."""
    costs: dict[int, list[float]] = {step: [] for step in around}
    for step, event in events:
        started = time.perf_counter_ns()
        follow(event)
        elapsed = (time.perf_counter_ns() - started) / 1000
        for measured in around:
            if abs(step - measured) <= AROUND:
                costs[measured].append(elapsed)
    return costs


def run(steps: int, repeat: int) -> list[dict]:
    """Measure early and late event costs of each follower over `repeat` fresh ones."""
    events = scripted_events(steps)
    late_step = steps - AROUND - 1
    lines = []
    for metric, follower in FOLLOWERS.items():
        early: list[float] = []
        late: list[float] = []
        for _ in range(repeat):
            costs = event_costs_us(events, follower(), (EARLY_STEP, late_step))
            early += costs[EARLY_STEP]
            late += costs[late_step]
        value, baseline = statistics.median(late), statistics.median(early)
        lines.append(
            ratio_line(
                "fold_cost",
                f"{metric}_at_step_{steps}",
                value,
                baseline,
                "us",
                digits=2,
                target_ratio=TARGET_RATIO,
            )
        )
    return lines


def main() -> None:
    """Measure and print the JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000, help="steps of the trajectory")
    parser.add_argument("--repeat", type=int, default=5, help="fresh followers fed the same run")
    args = parser.parse_args()
    print_lines(run(args.steps, args.repeat))


if __name__ == "__main__":
    main()
