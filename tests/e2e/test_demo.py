"""`apollo demo`, the whole loop, on a fresh embedded stack with the real local model."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from services.cli.demo_command import DEMO_STEPS
from services.cli.demo_stages import DEMO_RECIPE, DEMO_RULESET, EVAL_VARIANT, HELD_OUT_TASK
from services.judge.ruleset import shipped_ruleset
from services.llm.model_files import gguf_path
from tests.e2e.apollo_cli import apollo

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]


def test_the_demo_collects_judges_builds_trains_and_evaluates() -> None:
    if not gguf_path().is_file():
        pytest.skip("the local model is not fetched: scripts/fetch-local-model")
    with tempfile.TemporaryDirectory(prefix="apollo-demo-") as path:
        home = Path(path) / "home"
        try:
            result = apollo(home, "demo", "--json", timeout=1200)
            outcome = json.loads(result.stdout.splitlines()[-1])
            verify = apollo(home, "trajectory", "verify", outcome["trajectory_id"], "--json")
            lineage = apollo(home, "lineage", outcome["checkpoint_id"], "--json")
            # The checkpoint ran as a local policy through the stack, and its prompts verify.
            [run] = json.loads(lineage.stdout)["evaluations"]
            run_id = run["evaluation_trajectory_id"]
            held_out = apollo(home, "trajectory", "verify", run_id, "--json")
        finally:
            apollo(home, "down", check=False)
    print(f"demo stages (s): {outcome['stage_seconds']}")
    # The step budget ends the run: the demo withholds `finish` from the tiny model.
    assert (outcome["status"], outcome["steps"]) == ("finished", DEMO_STEPS)
    assert outcome["summaries"] >= 1
    # The tiny model makes no progress, so drift signals fire within a few steps and the
    # simulated annotator's hints reach the next prompts (one sent after the last may not).
    assert 1 <= outcome["guidance_delivered"] <= outcome["guidance_submitted"]
    assert outcome["ui_url"].startswith("http://127.0.0.1:")
    verified = json.loads(verify.stdout)
    assert verified == {"actions": DEMO_STEPS, "matching": DEMO_STEPS}

    # The judge masked some of the tiny model's actions, and the dataset still trains turns.
    assert outcome["ruleset_version"] == shipped_ruleset(DEMO_RULESET).version
    assert outcome["masked_actions"] >= 1
    assert outcome["trained_turns"] >= 1
    # The checkpoint descends from that dataset, made of the guided run and the reference run.
    traced = json.loads(lineage.stdout)
    assert traced["checkpoint"]["dataset_id"] == outcome["dataset_id"]
    assert traced["checkpoint"]["optimizer_step"] == DEMO_RECIPE.max_steps
    assert traced["dataset"]["ruleset_version"] == outcome["ruleset_version"]
    trained_on = {origin["trajectory_id"] for origin in traced["trajectories"]}
    assert trained_on == {outcome["trajectory_id"], outcome["reference_trajectory_id"]}
    # One held-out run was scored, and its score is the demo's.
    [evaluation] = traced["evaluations"]
    assert (evaluation["task_id"], evaluation["variant"]) == (HELD_OUT_TASK, EVAL_VARIANT)
    assert evaluation.get("final_score", 0.0) == outcome["eval_score"]
    assert 0.0 <= outcome["eval_score"] <= 100.0
    checked = json.loads(held_out.stdout)
    assert checked["actions"] >= 1
    assert checked["matching"] == checked["actions"]
    assert set(outcome["stage_seconds"]) == {
        "collect", "reference", "judge", "dataset", "train", "evaluate"
    }  # fmt: skip
