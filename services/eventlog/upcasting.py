"""Schema versions and the upcaster chain, applied in one place: the codec.

An upcaster turns the JSON form (protobuf JSON, proto field names) of an event
written with schema version N into version N+1. Handlers only ever see the
current version, so they never test for old fields.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from services.trajectory.canonical import canonical_json

# 2: a scripted policy's calls are TrajectoryStarted.scripted_calls, no longer a label.
CURRENT_SCHEMA_VERSION = 2

EventDict = dict[str, Any]
Upcaster = Callable[[EventDict], EventDict]

# The v1 label that held a scripted trajectory's calls as JSON [{"tool", "arguments"}].
V1_SCRIPT_LABEL = "scripted_calls"


def scripted_calls_out_of_labels(event: EventDict) -> EventDict:
    """v1 -> v2: move a scripted run's calls from its label into `scripted_calls`."""
    started = event.get("trajectory_started")
    if started is None or started.get("policy", {}).get("backend") != "scripted":
        return event
    labels = started.get("labels", {})
    calls = _v1_script(labels.get(V1_SCRIPT_LABEL))
    if calls is None:
        # Not a script v1 could run either: the label stays, as the history it is.
        return event
    del labels[V1_SCRIPT_LABEL]
    if calls:
        started["scripted_calls"] = calls
    return event


def _v1_script(label: str | None) -> list[EventDict] | None:
    """The calls of a v1 script label as v2 ScriptedCall dicts; None if it is no script."""
    try:
        steps = json.loads(label) if label is not None else None
        return [
            {"name": step["tool"], "arguments_json": canonical_json(step.get("arguments", {}))}
            for step in steps
        ]
    except (json.JSONDecodeError, TypeError, KeyError, AttributeError):
        return None


# version N -> function turning an event of version N into version N+1.
UPCASTERS: Mapping[int, Upcaster] = {1: scripted_calls_out_of_labels}


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
