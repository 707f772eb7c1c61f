"""The committed Python code of protos/ is what protoc generates today (`make protos`)."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"
SERVICE_PROTOS = {"control.proto"}


def _generate(out: Path) -> None:
    for proto in sorted((PROTOS / "apollo" / "v1").glob("*.proto")):
        args = ["protoc", f"-I{PROTOS}", f"--python_out={out}", f"--pyi_out={out}"]
        if proto.name in SERVICE_PROTOS:
            args.append(f"--grpc_python_out={out}")
        include = Path(protoc.__file__).parent / "_proto"
        assert protoc.main([*args, f"-I{include}", str(proto)]) == 0


def test_generated_code_matches_the_protos(tmp_path: Path) -> None:
    _generate(tmp_path)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.py*"))
    assert generated, "protoc generated nothing"
    committed = ROOT / "apollo" / "v1"
    stale = [
        str(path)
        for path in generated
        if not (ROOT / path).exists() or not filecmp.cmp(tmp_path / path, ROOT / path, False)
    ]
    assert not stale, f"generated code is stale, run `make protos`: {stale}"
    extra = {p.name for p in committed.glob("*_pb2*.py*")} - {p.name for p in generated}
    assert not extra, f"generated files without a proto: {sorted(extra)}"


@pytest.mark.parametrize(
    "module", ["events_pb2", "deadletter_pb2", "control_pb2", "control_pb2_grpc"]
)
def test_generated_modules_import(module: str) -> None:
    __import__(f"apollo.v1.{module}")
