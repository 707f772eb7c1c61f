"""Hand-built trajectories for the judge: calls, observations and guidance, as logged."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event, new_event_id
from services.judge.following import FollowedTrajectories
from services.judge.rules import Rule
from services.judge.ruleset import Ruleset
from services.judge.steps import StepView, StepViews, step_view_of_events
from services.judge.verdicts import ActionVerdict, judge_action, judge_trajectory
from services.trajectory import fold

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Call:
    """An action with a tool call and what the sandbox observed."""

    tool: str
    arguments: dict
    success: bool = True
    fields: dict | None = None
    error: str = ""


@dataclass(frozen=True)
class NullAnswer:
    """A model answer without a valid tool call."""

    kind: str = "no_tool_call"
    message: str = ""


@dataclass(frozen=True)
class Say:
    """A human's guidance, arriving after the action before it."""

    text: str
    kind: int = pb.GUIDANCE_KIND_ADVICE
    flags: tuple[int, ...] = ()


class ScriptedRun:
    """Writes the events of one trajectory from a script, one second apart."""

    def __init__(self) -> None:
        self.trajectory_id = new_event_id()
        self.clock = T0
        self.events: list[pb.Event] = []
        self.pending: list[str] = []
        self.step = 0

    def event(self, body, causation_id: str = "") -> pb.Event:
        """Any body, stamped with the next tick, appended to the log."""
        stamp = Timestamp()
        stamp.FromDatetime(self.clock)
        self.clock += timedelta(seconds=1)
        event = new_event(
            body,
            trajectory_id=self.trajectory_id,
            service="test",
            causation_id=causation_id,
            occurred_at=stamp,
        )
        self.events.append(event)
        return event

    def play(self, *script: Call | NullAnswer | Say, end: bool = True) -> ScriptedRun:
        """Log the script's actions, observations and guidance (and the end)."""
        self.event(pb.TrajectoryStarted(task_id="judge-test"))
        for entry in script:
            if isinstance(entry, Say):
                self.pending.append(self.guidance(entry).event_id)
            else:
                self.action(entry)
        if end:
            self.event(pb.TrajectoryEnded(reason=pb.END_REASON_FINISHED, steps=self.step))
        return self

    def guidance(self, say: Say) -> pb.Event:
        """A GuidanceSubmitted."""
        body = pb.GuidanceSubmitted(
            annotator="ann", kind=say.kind, text=say.text, flagged_step_indices=list(say.flags)
        )
        return self.event(body)

    def action(self, entry: Call | NullAnswer) -> None:
        """An ActionProposed delivering the pending guidance, then its observation."""
        proposed = pb.ActionProposed(
            step_index=self.step, delivered_guidance_ids=self.pending, prompt_digest="sha256:00"
        )
        self.pending = []
        if isinstance(entry, NullAnswer):
            proposed.parse_error.CopyFrom(pb.ParseError(kind=entry.kind, message=entry.message))
        else:
            arguments = json.dumps(entry.arguments, sort_keys=True, separators=(",", ":"))
            proposed.tool_call.CopyFrom(
                pb.ToolCall(call_id=f"c{self.step}", name=entry.tool, arguments_json=arguments)
            )
        action = self.event(proposed)
        self.event(self.observation(action, entry), causation_id=action.event_id)
        self.step += 1

    def observation(self, action: pb.Event, entry: Call | NullAnswer) -> pb.ObservationRecorded:
        """The sandbox's observation of an entry."""
        if isinstance(entry, NullAnswer):
            error = "no valid tool call; check your output format"
            fields: dict = {"success": False, "message": "", "error_message": error}
            success, tool = False, ""
        else:
            error, success, tool = entry.error, entry.success, entry.tool
            fields = {"success": success, "message": "", "error_message": error}
            fields.update(entry.fields or {})
        body = pb.ObservationRecorded(
            action_id=action.event_id,
            step_index=action.action_proposed.step_index,
            tool_name=tool,
            success=success,
            message=str(fields.get("message", "")),
            error_message=error,
            observation_json=json.dumps(fields, sort_keys=True, separators=(",", ":")),
        )
        if isinstance(fields.get("score"), float):
            body.eval_score = fields["score"]
        return body

    @property
    def view(self) -> StepView:
        """The judge's view of the log so far."""
        return step_view_of_events(self.events)

    @property
    def settled(self) -> StepView:
        """The live judge's view of the log so far: its settled steps."""
        return StepViews().settled(fold(self.events))


def followed_verdicts(events: list[pb.Event], ruleset: Ruleset) -> list[ActionVerdict]:
    """The verdicts as the live judge gives them: each action's once it is due, event by
    event, on the one view that grows with the trajectory; in step order."""
    followed, verdicts = FollowedTrajectories(ruleset), []
    for event in events:
        followed.apply(event)
        due = followed.due(event.trajectory_id)
        verdicts += [judge_action(item.view, item.position, ruleset) for item in due]
        followed.record_published(event.trajectory_id, [item.action.event_id for item in due])
    return sorted(verdicts, key=lambda verdict: verdict.step_index)


def fired(script: tuple, *rules: Rule) -> dict[int, list[tuple[str, tuple[int, ...], str]]]:
    """Per step index, the (rule id, evidence steps, quote) of each reason given; the live
    judge, following the log event by event, must give the very same verdicts."""
    run, ruleset = ScriptedRun().play(*script), Ruleset(rules=rules)
    verdicts = judge_trajectory(run.view, ruleset)
    assert followed_verdicts(run.events, ruleset) == verdicts
    return {
        verdict.step_index: [(r.rule_id, r.evidence_steps, r.quote) for r in verdict.reasons]
        for verdict in verdicts
        if verdict.reasons
    }
