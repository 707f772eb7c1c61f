"""Schema versions and the upcaster chain, applied in one place: the codec.

An upcaster turns the JSON form (protobuf JSON, proto field names) of an event
written with schema version N into version N+1. Handlers only ever see the
current version, so they never test for old fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

CURRENT_SCHEMA_VERSION = 1

EventDict = dict[str, Any]
Upcaster = Callable[[EventDict], EventDict]

# version N -> function turning an event of version N into version N+1.
UPCASTERS: Mapping[int, Upcaster] = {}


class UnsupportedSchemaVersion(ValueError):
    """The event's schema version is unknown to this build."""


def upcast(
    event: EventDict,
    version: int,
    *,
    current: int = CURRENT_SCHEMA_VERSION,
    upcasters: Mapping[int, Upcaster] = UPCASTERS,
) -> EventDict:
    """Apply the chain from `version` up to `current`; the result carries `current`."""
    if version > current or version < 1:
        raise UnsupportedSchemaVersion(
            f"schema_version {version} is not supported (this build reads 1..{current})"
        )
    while version < current:
        step = upcasters.get(version)
        if step is None:
            raise UnsupportedSchemaVersion(f"no upcaster from schema_version {version}")
        event = step(event)
        version += 1
        event["schema_version"] = version
    return event
