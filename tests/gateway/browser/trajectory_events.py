"""Builders of valid Apollo events in their protobuf-JSON form, for feeding the gateway."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.eventlog.events import new_event_id

SAMPLE = Path(__file__).parents[3] / "services" / "cli" / "samples" / "sample_trajectory.jsonl"


def new_trajectory_id() -> str:
    return new_event_id()


def _event(trajectory_id: str, service: str, body_kind: str, body: dict[str, Any]):
    return {
        "event_id": new_event_id(),
        "trajectory_id": trajectory_id,
        "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "source": {"service": service, "version": "test"},
        "schema_version": 1,
        body_kind: body,
    }


def started(trajectory_id: str, task_id: str = "test-task", title: str = "A test task"):
    body = {"task_id": task_id, "task_title": title, "task_description": "Do the thing."}
    return _event(trajectory_id, "gateway", "trajectory_started", body)


def action(
    trajectory_id: str,
    step: int,
    tool: str = "run_command",
    arguments: dict[str, Any] | None = None,
    text: str = "",
    delivered: list[str] | None = None,
) -> dict[str, Any]:
    """An action_proposed; proto JSON omits defaults, so step 0 has no step_index."""
    body: dict[str, Any] = {
        "assistant_text": text,
        "prompt_digest": f"sha256:step{step}",
        "tool_call": {
            "call_id": f"call_{step}",
            "name": tool,
            "arguments_json": json.dumps(arguments or {}),
        },
    }
    if step:
        body["step_index"] = step
    if delivered:
        body["delivered_guidance_ids"] = delivered
    return _event(trajectory_id, "policy", "action_proposed", body)


def guidance(trajectory_id: str, text: str, annotator: str = "bob") -> dict[str, Any]:
    """A guidance_submitted of kind advice (the proto JSON default, so omitted)."""
    body = {"text": text, "annotator": annotator}
    return _event(trajectory_id, "gateway", "guidance_submitted", body)


def observation(
    proposed: dict[str, Any], output: str = "", success: bool = True, message: str = "Done."
):
    """The sandbox's observation of `proposed`; a finished command's names its session."""
    body = proposed["action_proposed"]
    details = {"success": success, "message": message, "output": output}
    session = json.loads(body["tool_call"]["arguments_json"]).get("session")
    if session is not None:
        details |= {"session": session, "exit_code": 0 if success else 1}
    return _event(
        proposed["trajectory_id"],
        "sandbox",
        "observation_recorded",
        {
            "action_id": proposed["event_id"],
            "step_index": body.get("step_index", 0),
            "tool_name": body["tool_call"]["name"],
            "success": success,
            "message": message,
            "error_message": "" if success else message,
            "observation_json": json.dumps(details),
        },
    )


def sample_trajectory(trajectory_id: str) -> list[dict[str, Any]]:
    """The CLI's sample trajectory under fresh ids, references between events kept."""
    text = SAMPLE.read_text()
    events = [json.loads(line) for line in text.splitlines() if line]
    renamed = {events[0]["trajectory_id"]: trajectory_id}
    renamed |= {event["event_id"]: new_event_id() for event in events}
    for old, new in renamed.items():
        text = text.replace(old, new)
    return [json.loads(line) for line in text.splitlines() if line]


def judged(proposed: dict[str, Any], version: str, *reasons: dict[str, Any]) -> dict[str, Any]:
    """The judge's verdict on an action: masked when a reason is given."""
    body = {
        "action_id": proposed["event_id"],
        "step_index": proposed["action_proposed"].get("step_index", 0),
        "ruleset_version": version,
        "verdict": "VERDICT_MASK" if reasons else "VERDICT_KEEP",
        "reasons": list(reasons),
    }
    return _event(proposed["trajectory_id"], "judge", "action_judged", body)
