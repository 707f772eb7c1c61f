"""`apollo train` killed mid-way and run again continues from its last checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from training_fixtures import agent_dataset, tiny_base_model

REPO = Path(__file__).resolve().parents[2]
STEPS = 60


def _command(base: Path) -> list[str]:
    return [
        sys.executable, "-m", "services.cli", "train", "--dataset", "ds-resume",
        "--base-model", str(base), "--lr", "3e-3", "--batch", "2", "--grad-accum", "1",
        "--max-steps", str(STEPS), "--save-steps", "5", "--json",
    ]  # fmt: skip


def _environment(tmp_path: Path) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("APOLLO_KAFKA", "APOLLO_POSTGRES_DSN")
    }
    return environment | {
        "APOLLO_HOME": str(tmp_path / "home"),
        "APOLLO_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "PYTHONPATH": str(REPO),
    }


def _first_checkpoint(runs: Path, process: subprocess.Popen, timeout_s: float) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        states = sorted(runs.glob("*/checkpoint-*/trainer_state.json"))
        if states:
            return states[0].parent
        time.sleep(0.02)
    raise AssertionError(f"no checkpoint appeared (exit code {process.poll()})")


@pytest.mark.timeout(600)
def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path: Path) -> None:
    base = tiny_base_model(tmp_path / "base")
    agent_dataset(tmp_path / "artifacts", "ds-resume")
    environment = _environment(tmp_path)
    first = subprocess.Popen(
        _command(base), cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _first_checkpoint(tmp_path / "artifacts" / "runs", first, timeout_s=300)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert not (tmp_path / "artifacts" / "checkpoints").exists(), "killed before it finished"
    rerun = subprocess.run(
        _command(base), cwd=REPO, env=environment, capture_output=True, text=True, timeout=500
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming from" in rerun.stderr
    resumed_at = int(rerun.stderr.split("resuming from")[1].split("(step ")[1].split(")")[0])
    assert 0 < resumed_at < STEPS
    print(f"killed after its first checkpoint; the rerun resumed at step {resumed_at}")
    result = json.loads(rerun.stdout)
    assert result["optimizer_step"] == STEPS
    assert result["recorded"] is False  # no stack: the event waits in the checkpoint directory
    state = json.loads((Path(result["directory"]) / "trainer_state.json").read_text())
    logged_steps = [entry["step"] for entry in state["log_history"] if "loss" in entry]
    # The step counter continued: every step logged exactly once across both processes.
    assert logged_steps == list(range(1, STEPS + 1))
    # The trained-token count continued too: 60 steps are 12 epochs of 9 rows, 13 tokens each.
    assert result["metrics"]["trained_tokens"] == 12 * 9 * 13
