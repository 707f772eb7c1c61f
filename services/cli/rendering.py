"""One readable line per event, for `apollo events`."""

from __future__ import annotations

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import body_kind

MAX_DETAIL = 100


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def _detail(event: pb.Event) -> str:
    kind = body_kind(event)
    body = getattr(event, kind)
    if kind == "trajectory_started":
        return f"task {body.task_id}: {body.task_title}"
    if kind == "action_proposed":
        if body.HasField("tool_call"):
            return f"step {body.step_index}: {body.tool_call.name}({body.tool_call.arguments_json})"
        return f"step {body.step_index}: null action ({body.parse_error.kind})"
    if kind == "observation_recorded":
        status = "ok" if body.success else "failed"
        detail = body.message or body.error_message
        return f"step {body.step_index}: {body.tool_name} {status} {detail}"
    if kind == "guidance_submitted":
        kind_name = pb.GuidanceKind.Name(body.kind).removeprefix("GUIDANCE_KIND_").lower()
        return f"{body.annotator} ({kind_name}): {body.text}"
    if kind == "context_summarized":
        return f"steps {body.first_step_index}-{body.last_step_index} summarized"
    if kind == "trajectory_ended":
        reason = pb.EndReason.Name(body.reason).removeprefix("END_REASON_").lower()
        score = f", score {body.final_score:.1f}" if body.HasField("final_score") else ""
        return f"{reason} after {body.steps} steps{score}"
    return ""


def describe_event(event: pb.Event) -> str:
    """`time  kind  detail` on one line."""
    when = event.occurred_at.ToDatetime().strftime("%Y-%m-%d %H:%M:%S")
    return f"{when}  {body_kind(event):22} {_clip(_detail(event))}"
