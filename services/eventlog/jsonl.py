"""The export format: one protobuf-JSON event per line, proto field names."""

from __future__ import annotations

from google.protobuf import json_format

from apollo.v1 import events_pb2 as pb
from services.trajectory.canonical import canonical_json


def to_json_line(event: pb.Event) -> str:
    """One compact, deterministic JSON line (no trailing newline).

    Canonical (sorted keys): a map field's entries come out of protobuf in an order that
    differs from process to process, and an export must be byte-identical every time.
    """
    return canonical_json(json_format.MessageToDict(event, preserving_proto_field_name=True))


def from_json_line(line: str) -> pb.Event:
    """Parse one exported line; raises `json_format.ParseError` or `ValueError`."""
    return json_format.Parse(line, pb.Event())
