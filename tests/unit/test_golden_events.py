"""Old events always load: the committed golden events of every schema version decode today.

The goldens are history and tests only read them; `python tests/golden/make_golden.py`
adds the missing ones by hand and never rewrites a committed one.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.codec import decode
from services.eventlog.events import BODY_KINDS, body_kind
from services.eventlog.jsonl import from_json_line
from services.eventlog.upcasting import CURRENT_SCHEMA_VERSION

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
BINARIES = sorted(GOLDEN.glob("v*/*.bin"))
# Body families added after schema version 1, with the version that added them: no build
# of an older version could have written one, so that version has no golden of it.
ADDED_IN_VERSION = {"step_labeled": 2}


def _kind(path: Path) -> str:
    # "<body kind>.bin", or "<body kind>.<variant>.bin" for another shape of the same family.
    return path.name.split(".")[0]


def _version(path: Path) -> int:
    return int(path.parent.name.removeprefix("v"))


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ids(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_there_are_goldens_for_every_schema_version() -> None:
    versions = {_version(path) for path in BINARIES}
    assert versions == set(range(1, CURRENT_SCHEMA_VERSION + 1))


@pytest.mark.parametrize("version", range(1, CURRENT_SCHEMA_VERSION + 1))
def test_every_body_kind_has_a_golden_in_every_version(version: int) -> None:
    kinds = {_kind(path) for path in BINARIES if _version(path) == version}
    expected = {kind for kind in BODY_KINDS if ADDED_IN_VERSION.get(kind, 1) <= version}
    missing = sorted(expected - kinds)
    assert not missing, f"no v{version} golden for {missing}: run tests/golden/make_golden.py"


@pytest.mark.parametrize("path", BINARIES, ids=_ids)
def test_a_golden_still_decodes_to_its_body_kind(path: Path) -> None:
    event = decode(path.read_bytes())
    assert body_kind(event) == _kind(path)
    assert event.schema_version == CURRENT_SCHEMA_VERSION


@pytest.mark.parametrize("path", BINARIES, ids=_ids)
def test_the_json_golden_says_what_the_binary_golden_says(path: Path) -> None:
    as_json = path.with_suffix(".json")
    assert as_json.exists(), f"{as_json.name} is missing beside {path.name}"
    from_json = from_json_line(as_json.read_text(encoding="utf-8"))
    assert from_json == pb.Event.FromString(path.read_bytes())
    assert from_json.schema_version == _version(path)


def test_every_json_golden_has_its_binary() -> None:
    orphans = [p.name for p in GOLDEN.glob("v*/*.json") if not p.with_suffix(".bin").exists()]
    assert not orphans


def test_the_script_adds_missing_goldens_and_never_rewrites_one(tmp_path: Path) -> None:
    script = _load_script()
    tampered = tmp_path / "trajectory_ended.bin"
    tampered.write_bytes(b"history")
    differing = script.write_missing(tmp_path)
    assert differing == [tampered]
    assert tampered.read_bytes() == b"history"
    assert {_kind(p) for p in tmp_path.glob("*.bin")} == set(BODY_KINDS)
    written = [p for p in tmp_path.glob("*.bin") if p != tampered]
    assert all(not script.unset_fields(decode(p.read_bytes())) for p in written)


def test_a_start_from_before_task_families_names_the_default_instance() -> None:
    started = decode((GOLDEN / "v2" / "trajectory_started.bin").read_bytes()).trajectory_started
    assert started.task_id
    assert started.task_seed == 0
