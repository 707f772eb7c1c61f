"""Envelope and body invariants every accepted event satisfies."""

from __future__ import annotations

import uuid

from apollo.v1 import events_pb2 as pb

# Bodies that belong to no single trajectory (dataset-level training facts).
_TRAJECTORY_OPTIONAL = {"dataset_built", "checkpoint_saved", "evaluation_scored"}


class InvalidEvent(ValueError):
    """The event decodes but breaks an invariant of the schema."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidEvent(message)


def _is_uuid7(value: str) -> bool:
    try:
        return uuid.UUID(value).version == 7
    except ValueError:
        return False


def _check_body(kind: str, event: pb.Event) -> None:
    if kind == "action_proposed":
        outcome = event.action_proposed.WhichOneof("outcome")
        _require(outcome is not None, "action_proposed needs a tool_call or a parse_error")
        _require(event.action_proposed.prompt_digest != "", "action_proposed needs prompt_digest")
    elif kind == "observation_recorded":
        _require(event.observation_recorded.action_id != "", "observation_recorded needs action_id")
    elif kind == "guidance_submitted":
        body = event.guidance_submitted
        _require(body.annotator != "", "guidance_submitted needs an annotator")
        _require(
            body.text.strip() != "" or len(body.flagged_step_indices) > 0,
            "guidance_submitted needs text or flagged steps",
        )
    elif kind == "trajectory_started":
        _require(event.trajectory_started.task_id != "", "trajectory_started needs task_id")
    elif kind == "context_summarized":
        _require(event.context_summarized.request_id != "", "context_summarized needs request_id")
    elif kind == "action_judged":
        body = event.action_judged
        _require(body.action_id != "", "action_judged needs action_id")
        _require(body.ruleset_version != "", "action_judged needs ruleset_version")
        _require(body.verdict != pb.VERDICT_UNSPECIFIED, "action_judged needs a verdict")
    elif kind == "step_labeled":
        body = event.step_labeled
        _require(body.action_id != "", "step_labeled needs action_id")
        _require(body.label != pb.STEP_LABEL_UNSPECIFIED, "step_labeled needs a label")
        _require(body.annotator != "", "step_labeled needs an annotator")


def validate(event: pb.Event) -> None:
    """Raise `InvalidEvent` naming the first broken invariant."""
    _require(_is_uuid7(event.event_id), f"event_id {event.event_id!r} is not a UUIDv7")
    kind = event.WhichOneof("body")
    _require(kind is not None, "event has no body")
    _require(
        event.trajectory_id != "" or kind in _TRAJECTORY_OPTIONAL,
        f"{kind} needs a trajectory_id",
    )
    _require(event.HasField("occurred_at"), "event has no occurred_at")
    _require(event.source.service != "", "event has no source.service")
    _check_body(kind, event)
