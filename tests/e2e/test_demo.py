"""`apollo demo`, the main job, on a fresh embedded stack with the real local model."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from services.cli.demo_command import DEMO_STEPS
from services.llm.model_files import gguf_path
from tests.e2e.apollo_cli import apollo

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]


def test_the_demo_runs_its_steps_with_summaries_and_every_prompt_verifies() -> None:
    if not gguf_path().is_file():
        pytest.skip("the local model is not fetched: scripts/fetch-local-model")
    with tempfile.TemporaryDirectory(prefix="apollo-demo-") as path:
        home = Path(path) / "home"
        try:
            result = apollo(home, "demo", "--json", timeout=1200)
            outcome = json.loads(result.stdout.splitlines()[-1])
            verify = apollo(home, "trajectory", "verify", outcome["trajectory_id"], "--json")
        finally:
            apollo(home, "down", check=False)
    # The step budget ends the run: the demo withholds `finish` from the tiny model.
    assert (outcome["status"], outcome["steps"]) == ("finished", DEMO_STEPS)
    assert outcome["summaries"] >= 1
    # The tiny model makes no progress, so drift signals fire within a few steps and the
    # simulated annotator's hints reach the next prompts (one sent after the last may not).
    assert 1 <= outcome["guidance_delivered"] <= outcome["guidance_submitted"]
    assert outcome["ui_url"].startswith("http://127.0.0.1:")
    verified = json.loads(verify.stdout)
    assert verified == {"actions": DEMO_STEPS, "matching": DEMO_STEPS}
