"""Writing trajectory logs the way the services do, for the renderer and policy tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event, new_event_id
from services.trajectory import fold
from services.trajectory.prompt import render_next_prompt

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

TOOLS = (
    pb.ToolSpec(
        name="run_command",
        description="Run a shell command.",
        parameters_json_schema='{"properties":{"command":{"type":"string"}},"type":"object"}',
    ),
    pb.ToolSpec(name="eval", description="Grade the workspace.", parameters_json_schema="{}"),
    pb.ToolSpec(name="finish", description="End the task.", parameters_json_schema="{}"),
)


def started_body(
    *, max_steps: int = 50, threshold: int = 100_000, backend: str = "scripted", model: str = ""
) -> pb.TrajectoryStarted:
    """A TrajectoryStarted with the paper's sampling and three small tools."""
    return pb.TrajectoryStarted(
        task_id="toy-task",
        task_title="Toy task",
        task_description="Make the tests pass.",
        tools=list(TOOLS),
        budgets=pb.Budgets(max_steps=max_steps, max_seconds=3600, max_evals=3),
        policy=pb.ModelSpec(
            backend=backend,
            model=model,
            sampling=pb.SamplingParams(temperature=1.0, top_p=1.0, max_tokens=8192),
        ),
        summary_threshold_tokens=threshold,
        context_window_tokens=128_000,
        started_by="test",
        prompt_template_version="v1",
    )


class LogBook:
    """One trajectory's events, one second apart, written as the services would write them."""

    def __init__(self) -> None:
        self.trajectory_id = new_event_id()
        self.events: list[pb.Event] = []
        self.clock = T0

    def add(self, body: Message, service: str = "test", causation_id: str = "") -> pb.Event:
        """Append one event."""
        at = Timestamp()
        at.FromDatetime(self.clock)
        self.clock += timedelta(seconds=1)
        event = new_event(
            body,
            trajectory_id=self.trajectory_id,
            service=service,
            causation_id=causation_id,
            occurred_at=at,
        )
        self.events.append(event)
        return event

    def start(self, **options) -> pb.Event:
        """TrajectoryStarted."""
        return self.add(started_body(**options), service="cli")

    def guidance(self, text: str) -> pb.Event:
        """A human's message."""
        body = pb.GuidanceSubmitted(annotator="ann", text=text, channel="cli")
        return self.add(body, service="gateway")

    def step(self, tool: str = "run_command", arguments: dict | None = None) -> pb.Event:
        """Propose the next action as the policy would (delivering pending guidance), observe it."""
        action = self.propose(tool, arguments)
        self.observe(action)
        return action

    def propose(self, tool: str = "run_command", arguments: dict | None = None) -> pb.Event:
        """An ActionProposed for the next step with what the next prompt delivers."""
        upcoming = render_next_prompt(fold(self.events))
        body = pb.ActionProposed(
            step_index=upcoming.step_index,
            assistant_text="thinking out loud",
            delivered_guidance_ids=list(upcoming.delivered_guidance_ids),
            summary_id=upcoming.summary_id,
            prompt_digest=upcoming.prompt.digest,
        )
        if tool:
            body.tool_call.CopyFrom(
                pb.ToolCall(
                    call_id=f"call-{upcoming.step_index}",
                    name=tool,
                    arguments_json=json.dumps(arguments or {"command": "ls"}, sort_keys=True),
                )
            )
        else:
            body.parse_error.CopyFrom(pb.ParseError(kind="no_tool_call", message="no call"))
        return self.add(body, service="policy")

    def observe(self, action: pb.Event, output: str = "ok") -> pb.Event:
        """The sandbox's observation of `action`, with the remaining budgets."""
        step = action.action_proposed.step_index
        body = pb.ObservationRecorded(
            action_id=action.event_id,
            step_index=step,
            tool_name=action.action_proposed.tool_call.name,
            success=True,
            observation_json=json.dumps(
                {"success": True, "message": output, "error_message": ""}, sort_keys=True
            ),
            remaining=pb.BudgetRemaining(seconds=3600 - 10 * (step + 1), steps=49 - step, evals=3),
        )
        return self.add(body, service="sandbox", causation_id=action.event_id)

    def summarize(self, first: int, last: int, text: str = "<state_snapshot/>") -> pb.Event:
        """A SummaryRequested and its ContextSummarized."""
        state = fold(self.events)
        previous = state.latest_summary.event_id if state.latest_summary else ""
        request = self.add(
            pb.SummaryRequested(
                step_index=last + 1,
                first_step_index=first,
                last_step_index=last,
                previous_summary_id=previous,
            ),
            service="policy",
        )
        return self.add(
            pb.ContextSummarized(
                request_id=request.event_id,
                summary=text,
                first_step_index=first,
                last_step_index=last,
                action_count=last + 1,
                prompt_digest="sha256:" + "0" * 64,
            ),
            service="summarizer",
        )
