"""Schema v1 -> v2: a scripted run's calls move from its labels into `scripted_calls`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apollo.v1 import events_pb2 as pb
from services.cli.importing import read_export
from services.eventlog.archive import ArchivedEvent
from services.eventlog.codec import decode, encode
from services.eventlog.jsonl import to_json_line
from services.eventlog.upcasting import CURRENT_SCHEMA_VERSION, V1_SCRIPT_LABEL
from services.policy.scripts import BadScript, script_of

pytestmark = pytest.mark.timeout(10)

V1_SCRIPTED = (
    Path(__file__).resolve().parents[1] / "golden" / "v1" / "trajectory_started.scripted.bin"
)


def v1_started(backend: str, label: str) -> pb.Event:
    event = pb.Event.FromString(V1_SCRIPTED.read_bytes())
    event.trajectory_started.policy.backend = backend
    event.trajectory_started.labels[V1_SCRIPT_LABEL] = label
    return event


def test_a_v1_scripted_start_decodes_with_its_calls_in_the_typed_field() -> None:
    started = decode(V1_SCRIPTED.read_bytes())
    body = started.trajectory_started
    assert started.schema_version == CURRENT_SCHEMA_VERSION
    assert [(c.name, json.loads(c.arguments_json)) for c in body.scripted_calls] == [
        ("run_command", {"command": "ls data/raw", "session": "main"}),
        ("finish", {}),
    ]
    assert dict(body.labels) == {"experiment": "human+filter"}
    assert [(c.name, dict(c.arguments)) for c in script_of(body)] == [
        ("run_command", {"command": "ls data/raw", "session": "main"}),
        ("finish", {}),
    ]


def test_the_label_of_a_run_that_is_not_scripted_stays_a_label() -> None:
    label = '[{"tool":"think"}]'
    body = decode(encode(v1_started("openai", label))).trajectory_started
    assert body.labels[V1_SCRIPT_LABEL] == label
    assert not body.scripted_calls


def test_a_v1_label_that_is_no_script_still_loads_and_stays_a_label() -> None:
    body = decode(encode(v1_started("scripted", "not json"))).trajectory_started
    assert body.labels[V1_SCRIPT_LABEL] == "not json"
    assert not body.scripted_calls


def test_a_scripted_call_whose_arguments_are_not_an_object_is_a_bad_script() -> None:
    body = pb.TrajectoryStarted(scripted_calls=[pb.ScriptedCall(name="think", arguments_json="[]")])
    with pytest.raises(BadScript, match="'think' needs a JSON object"):
        script_of(body)


def test_the_archive_reads_upcast_and_exports_as_written() -> None:
    raw = V1_SCRIPTED.read_bytes()
    record = ArchivedEvent.of("apollo.trajectories.v1", raw, 0)
    assert record.event.schema_version == CURRENT_SCHEMA_VERSION
    assert record.event.trajectory_started.scripted_calls
    assert encode(record.as_written()) == raw


def test_an_import_keeps_the_events_as_written(tmp_path: Path) -> None:
    raw = V1_SCRIPTED.read_bytes()
    export = tmp_path / "export.jsonl"
    export.write_text(to_json_line(pb.Event.FromString(raw)) + "\n")
    [imported] = read_export(export)
    assert encode(imported) == raw
