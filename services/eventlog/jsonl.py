"""The export format: one protobuf-JSON event per line, proto field names."""

from __future__ import annotations

import json

from google.protobuf import json_format

from apollo.v1 import events_pb2 as pb


def to_json_line(event: pb.Event) -> str:
    """One compact, deterministic JSON line (no trailing newline)."""
    as_dict = json_format.MessageToDict(event, preserving_proto_field_name=True)
    return json.dumps(as_dict, separators=(",", ":"), ensure_ascii=False)


def from_json_line(line: str) -> pb.Event:
    """Parse one exported line; raises `json_format.ParseError` or `ValueError`."""
    return json_format.Parse(line, pb.Event())
