"""What the API returns about trajectories: list rows and the full trajectory view."""

from __future__ import annotations

from google.protobuf import json_format

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import TrajectoryRow
from services.gateway.live import LiveLog
from services.gateway.presence import Presence
from services.gateway.workspace_view import file_changes, sessions
from services.trajectory import fold


def summary(row: TrajectoryRow, live: LiveLog, presence: Presence) -> dict:
    """One list row: the archive's read model, drift signals and watchers."""
    reasons = live.reasons(row.trajectory_id) if row.status == "running" else []
    as_json = row.as_json()
    del as_json["ended_at"]  # the contract's row has no end time; status says it ended
    return {
        **as_json,
        "guidance_per_100_steps": row.guidance_per_100_steps,
        "needs_attention": bool(reasons),
        "attention_reasons": reasons,
        "watchers": presence.watchers(row.trajectory_id),
    }


def event_json(event: pb.Event) -> dict:
    """An event as protobuf JSON with proto field names, as `to_json_line` writes it."""
    return json_format.MessageToDict(event, preserving_proto_field_name=True)


def detail(row: TrajectoryRow, events: list[pb.Event], live: LiveLog, presence: Presence) -> dict:
    """The trajectory view: summary, every event, terminal sessions and file changes."""
    state = fold(events, row.trajectory_id)
    return {
        "summary": summary(row, live, presence),
        "events": [event_json(event) for event in events],
        "sessions": [view.as_json() for view in sessions(state)],
        "file_changes": [change.as_json() for change in file_changes(state)],
    }
