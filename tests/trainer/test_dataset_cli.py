"""`apollo dataset show|diff|export` on a built dataset (no stack needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataset_fixture import RULESET
from typer.testing import CliRunner

from services.cli.main import app
from services.eventlog.archive import InMemoryArchive
from services.trainer.dataset_build import DatasetBuildConfig, build_dataset
from services.trainer.tokenization import SampleTokenizer

pytestmark = pytest.mark.timeout(30)


async def test_show_diff_and_export(
    archive: InMemoryArchive, tokenizer: SampleTokenizer, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("APOLLO_ARTIFACTS_DIR", str(tmp_path))
    first = await build_dataset(
        archive, DatasetBuildConfig(ruleset_version=RULESET), tokenizer, tmp_path
    )
    other = DatasetBuildConfig(ruleset_version=RULESET, react_upsample=2)
    second = await build_dataset(archive, other, tokenizer, tmp_path)
    a, b = first.manifest["dataset_id"], second.manifest["dataset_id"]
    runner = CliRunner()
    shown = runner.invoke(app, ["dataset", "show", a, "--json"])
    assert shown.exit_code == 0, shown.output
    figures = json.loads(shown.output)["figures"]
    assert figures["react samples"] == 3
    assert figures["masked by repeated-command"] == "33.3%"
    diff = json.loads(runner.invoke(app, ["dataset", "diff", a, b, "--json"]).output)
    assert diff["recipe react_upsample"] == [7, 2]
    exported = runner.invoke(
        app, ["dataset", "export", a, "--format", "tokens", "--out", str(tmp_path / "t")]
    )
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "t" / "tokens.parquet").is_file()
    missing = runner.invoke(app, ["dataset", "show", "ds-none"])
    assert missing.exit_code == 2
