"""`apollo train` with a stack up: CheckpointSaved is archived and published, once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from training_fixtures import agent_dataset, tiny_base_model
from typer.testing import CliRunner

from services.cli.main import app
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import TRAINING


@pytest.mark.integration
@pytest.mark.timeout(300)
async def test_train_records_checkpoint_saved_once(tmp_path: Path, broker, pg_dsn: str) -> None:
    archive = await PgArchive.connect(pg_dsn)
    await archive.migrate()
    base = tiny_base_model(tmp_path / "base")
    agent_dataset(tmp_path / "artifacts", "ds-cli")
    env = {
        "APOLLO_KAFKA": broker.address,
        "APOLLO_POSTGRES_DSN": pg_dsn,
        "APOLLO_HOME": str(tmp_path / "home"),
        "APOLLO_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
    }
    args = ["train", "--dataset", "ds-cli", "--base-model", str(base), "--max-steps", "3"]
    try:
        runs = [
            await asyncio.to_thread(CliRunner().invoke, app, [*args, "--json"], env=env)
            for _ in range(2)
        ]
        records = [record async for record in archive.iter_all()]
    finally:
        await archive.close()
    assert [run.exit_code for run in runs] == [0, 0], runs[0].output
    first, again = (json.loads(run.stdout) for run in runs)
    assert first["recorded"]
    assert again == first
    assert first["policy"] == f"local:{first['directory']}"
    (record,) = records
    assert record.topic == TRAINING.name
    body = record.event.checkpoint_saved
    assert body.checkpoint_id == first["checkpoint_id"]
    assert body.dataset_id == "ds-cli"
    assert body.optimizer_step == 3
    assert body.metrics["trained_tokens"] > 0
