"""A parsed node as Apollo events: start, steps, summaries, guidance, and the end if it ended.

Every event id derives from the node id and the place in the file it comes from, so
importing a node again yields the same events and the archive adds nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.cli.innovatorbench.literals import NodeFileError
from services.cli.innovatorbench.node import Node, NodeGuidance, NodeStep, NodeSummary
from services.eventlog.codec import RejectedMessage, decode, encode
from services.eventlog.events import new_event
from services.trajectory.canonical import canonical_json
from services.trajectory.derived_ids import derived_event_id
from services.trajectory.prompt_model import Prompt, SamplingParams
from services.trajectory.state import EVAL_TOOL, IMPORTED_FROM_LABEL

FORMAT = "innovatorbench"
SERVICE = "import"
# The prompts were the InnovatorBench agent's, not an Apollo template's: nothing re-renders them.
PROMPT_TEMPLATE = "innovatorbench-react"
ANNOTATOR = "innovatorbench"


def node_events(node: Node) -> list[pb.Event]:
    """The node's events in log order, each checked as the codec would check it."""
    return _Conversion(node).events()


class _Conversion:
    """Walks a node's turns once, numbering steps and linking each event to its cause."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.at = Timestamp()
        self.at.FromDatetime(node.recorded_at)
        self.model = pb.ModelSpec(backend=FORMAT, model=node.model)
        self.log: list[pb.Event] = []
        self.step_index = 0
        self.summary_id = ""
        self.guidance_ids: list[str] = []
        # What the next step answers: the previous observation, a summary, or the start.
        self.cause = ""

    def events(self) -> list[pb.Event]:
        started = self._append(self._started(), "node", "started")
        self.cause = started.event_id
        for turn in self.node.turns:
            if isinstance(turn, NodeStep):
                self._step(turn)
            elif isinstance(turn, NodeSummary):
                self._summary(turn)
            elif isinstance(turn, NodeGuidance):
                self._guidance(turn)
        if self.node.done:
            ended = pb.TrajectoryEnded(reason=pb.END_REASON_FINISHED, steps=self.step_index)
            self._append(ended, "node_type", "ended", causation_id=self.cause)
        return self.log

    def _started(self) -> pb.TrajectoryStarted:
        node = self.node
        digest = hashlib.sha256(node.task_description.encode()).hexdigest()
        return pb.TrajectoryStarted(
            task_id=f"{FORMAT}-{digest[:12]}",
            task_description=node.task_description,
            policy=self.model,
            started_by=SERVICE,
            labels={
                IMPORTED_FROM_LABEL: FORMAT,
                "innovatorbench_node_id": node.node_id,
                "innovatorbench_parent_id": node.parent_id,
                "innovatorbench_node_type": node.node_type,
            },
            prompt_template_version=PROMPT_TEMPLATE,
            system_prompt=node.system_prompt,
        )

    def _step(self, step: NodeStep) -> None:
        body = pb.ActionProposed(
            step_index=self.step_index,
            model=self.model,
            assistant_text=step.assistant_text,
            delivered_guidance_ids=self.guidance_ids,
            summary_id=self.summary_id,
            prompt_digest=self._prompt_digest(step.prompt_length),
        )
        if step.call is not None:
            body.tool_call.CopyFrom(_tool_call(step.call))
        else:
            kind = "no_tool_call" if step.call_count == 0 else "multiple_tool_calls"
            body.parse_error.CopyFrom(
                pb.ParseError(kind=kind, message=f"the answer held {step.call_count} tool calls")
            )
        if step.usage is not None:
            body.usage.CopyFrom(pb.TokenUsage(prompt_tokens=step.usage[0],
                                              completion_tokens=step.usage[1]))  # fmt: skip
        action = self._append(body, step.position, "action", causation_id=self.cause)
        self.guidance_ids = []
        if step.observation is not None:
            observed = _observation(action, step.observation)
            self.cause = self._append(observed, step.position, "observation",
                                      causation_id=action.event_id).event_id  # fmt: skip
        self.step_index += 1

    def _summary(self, summary: NodeSummary) -> None:
        first, last = self.step_index, self.step_index + summary.action_count - 1
        # The summarized steps came before this node: the file holds only their summary.
        request = pb.SummaryRequested(
            step_index=last + 1,
            first_step_index=first,
            last_step_index=last,
            previous_summary_id=self.summary_id,
        )
        requested = self._append(request, summary.position, "summary_requested",
                                 causation_id=self.cause)  # fmt: skip
        body = pb.ContextSummarized(
            request_id=requested.event_id,
            summary=summary.snapshot,
            first_step_index=first,
            last_step_index=last,
            action_count=summary.action_count,
            model=self.model,
        )
        summarized = self._append(body, summary.position, "context_summarized",
                                  causation_id=requested.event_id)  # fmt: skip
        self.summary_id = self.cause = summarized.event_id
        self.step_index = last + 1

    def _guidance(self, guidance: NodeGuidance) -> None:
        for number, text in enumerate(guidance.texts):
            body = pb.GuidanceSubmitted(annotator=ANNOTATOR, text=text, channel=SERVICE)
            event = self._append(body, guidance.position, "guidance", str(number))
            self.guidance_ids.append(event.event_id)

    def _prompt_digest(self, length: int) -> str:
        prompt = Prompt(
            self.node.prompt[:length], (), SamplingParams.from_proto(pb.SamplingParams())
        )
        return prompt.digest

    def _append(self, body: Message, where: str, *parts: str, causation_id: str = "") -> pb.Event:
        event = new_event(
            body,
            trajectory_id=self.node.node_id,
            service=SERVICE,
            causation_id=causation_id,
            event_id=derived_event_id(self.at, FORMAT, self.node.node_id, where, *parts),
            occurred_at=self.at,
        )
        try:
            checked = decode(encode(event))
        except RejectedMessage as error:
            raise NodeFileError(where, f"makes no valid event: {error.reason}") from error
        self.log.append(checked)
        return checked


def _tool_call(call: dict[str, Any]) -> pb.ToolCall:
    return pb.ToolCall(
        call_id=call.get("call_id") or "",
        name=call["name"],
        arguments_json=canonical_json(call["arguments"]),
    )


def _observation(action: pb.Event, observation: dict[str, Any]) -> pb.ObservationRecorded:
    tool = action.action_proposed.tool_call.name
    body = pb.ObservationRecorded(
        action_id=action.event_id,
        step_index=action.action_proposed.step_index,
        tool_name=tool,
        success=observation.get("success") is True,
        message=str(observation.get("message") or ""),
        error_message=str(observation.get("error_message") or ""),
        observation_json=canonical_json(observation),
    )
    score = observation.get("overall_score")
    if tool == EVAL_TOOL and isinstance(score, int | float) and not isinstance(score, bool):
        body.eval_score = float(score)
    return body
