"""The ActionJudged event of a verdict, as the live judge and a re-judging run record it."""

from __future__ import annotations

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event
from services.judge.verdicts import ActionVerdict, verdict_event_id

SERVICE = "judge"


def verdict_event(action: pb.Event, verdict: ActionVerdict) -> pb.Event:
    """The verdict on `action` as an event caused by it, with the id derived from both."""
    return new_event(
        verdict.to_proto(),
        trajectory_id=action.trajectory_id,
        service=SERVICE,
        causation_id=action.event_id,
        event_id=verdict_event_id(action, verdict.ruleset_version),
    )
