"""The start event of a scripted trajectory on no task pack, for benchmarks and policy tests."""

from __future__ import annotations

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event, new_event_id
from services.tasks.starting import scripted_calls


def scripted_start(steps: int, tools: list[pb.ToolSpec], calls: list[tuple[str, dict]]) -> pb.Event:
    """A TrajectoryStarted whose scripted policy replays `calls`."""
    body = pb.TrajectoryStarted(
        task_id="bench-noop",
        task_description="Think until the budget ends.",
        tools=tools,
        budgets=pb.Budgets(max_steps=steps, max_seconds=3600, max_evals=0),
        policy=pb.ModelSpec(
            backend="scripted",
            model="bench",
            sampling=pb.SamplingParams(temperature=1.0, top_p=1.0, max_tokens=8192),
        ),
        started_by="bench",
        prompt_template_version="v1",
        scripted_calls=scripted_calls(calls),
    )
    return new_event(body, trajectory_id=new_event_id(), service="bench")
