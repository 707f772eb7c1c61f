"""Bytes <-> events: protobuf binary on the wire, upcast and validated on the way in."""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from apollo.v1 import events_pb2 as pb
from services.eventlog.upcasting import (
    CURRENT_SCHEMA_VERSION,
    UnsupportedSchemaVersion,
    upcast,
)
from services.eventlog.validation import InvalidEvent, validate

# Bigger payloads belong in the blob store, referenced by digest.
MAX_EVENT_BYTES = 1024 * 1024


class RejectedMessage(ValueError):
    """A message no consumer may accept; `error_class` names why for the dead-letter record."""

    def __init__(self, error_class: str, reason: str) -> None:
        super().__init__(reason)
        self.error_class = error_class
        self.reason = reason


def encode(event: pb.Event) -> bytes:
    """Serialize an event (deterministically, so equal events give equal bytes)."""
    return event.SerializeToString(deterministic=True)


def decode(raw: bytes | None) -> pb.Event:
    """Parse, upcast and validate; raise `RejectedMessage` for anything unacceptable."""
    if raw is None:
        raise RejectedMessage("undecodable", "message has no value")
    if len(raw) > MAX_EVENT_BYTES:
        raise RejectedMessage(
            "oversized",
            f"message of {len(raw)} bytes exceeds {MAX_EVENT_BYTES}; use the blob store",
        )
    event = pb.Event()
    try:
        event.ParseFromString(raw)
    except (DecodeError, RuntimeError, ValueError) as error:
        raise RejectedMessage("undecodable", f"not a protobuf Event: {error}") from error
    event = upcast_event(event)
    try:
        validate(event)
    except InvalidEvent as error:
        raise RejectedMessage("invalid", str(error)) from error
    return event


def upcast_event(event: pb.Event) -> pb.Event:
    """The event in the current schema version; raise `RejectedMessage` if it cannot be."""
    if event.schema_version == CURRENT_SCHEMA_VERSION:
        return event
    try:
        as_dict = upcast(_to_dict(event), event.schema_version)
        return json_format.ParseDict(as_dict, pb.Event())
    except UnsupportedSchemaVersion as error:
        raise RejectedMessage("unsupported_version", str(error)) from error
    except json_format.ParseError as error:
        raise RejectedMessage("invalid", f"upcast result does not parse: {error}") from error


def _to_dict(event: pb.Event) -> dict:
    return json_format.MessageToDict(event, preserving_proto_field_name=True)
