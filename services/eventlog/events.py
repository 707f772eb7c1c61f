"""Building and inspecting event envelopes."""

from __future__ import annotations

import time

import uuid_utils
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.eventlog.upcasting import CURRENT_SCHEMA_VERSION

Event = pb.Event

BODY_KINDS: tuple[str, ...] = tuple(
    field.name for field in pb.Event.DESCRIPTOR.oneofs_by_name["body"].fields
)
_BODY_FIELD_BY_TYPE = {
    field.message_type.full_name: field.name
    for field in pb.Event.DESCRIPTOR.oneofs_by_name["body"].fields
}


def new_event_id() -> str:
    """A fresh UUIDv7 (time-ordered) as a string."""
    return str(uuid_utils.uuid7())


def body_kind(event: pb.Event) -> str:
    """The name of the event's body field, e.g. "action_proposed" ("" when unset)."""
    return event.WhichOneof("body") or ""


def new_event(
    body: Message,
    *,
    trajectory_id: str,
    service: str,
    version: str = "0.1.0",
    causation_id: str = "",
    event_id: str | None = None,
    occurred_at: Timestamp | None = None,
) -> pb.Event:
    """Wrap a body message (e.g. `pb.GuidanceSubmitted(...)`) in a current-version envelope."""
    field = _BODY_FIELD_BY_TYPE.get(body.DESCRIPTOR.full_name)
    if field is None:
        raise TypeError(f"{body.DESCRIPTOR.full_name} is not an event body")
    event = pb.Event(
        event_id=event_id or new_event_id(),
        trajectory_id=trajectory_id,
        source=pb.Source(service=service, version=version),
        causation_id=causation_id,
        schema_version=CURRENT_SCHEMA_VERSION,
    )
    if occurred_at is None:
        # GetCurrentTime goes through a datetime; the clock's nanoseconds are as good and cheaper.
        event.occurred_at.FromNanoseconds(time.time_ns())
    else:
        event.occurred_at.CopyFrom(occurred_at)
    getattr(event, field).CopyFrom(body)
    return event
