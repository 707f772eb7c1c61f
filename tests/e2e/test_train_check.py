"""`apollo experiment train-check` end to end, on a tiny model with the local model's tokenizer.

The real check (`make train-check`) trains SmolLM2-135M for minutes; here a 2-layer model of
the same vocabulary takes its place and barely trains, so the whole path runs (reference run
on the stack, the judge, the dataset, three passes of training, the held-out run and its
prompts) and the check must fail on the loss. Whether a loss falls far enough is the unit
test's (`tests/unit/test_train_check_losses.py`).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from bench._training_inputs import tiny_llama
from services.cli.train_check_command import PASSES
from services.llm.model_files import gguf_path
from services.trainer.tokenization import LOCAL_TOKENIZER, load_sample_tokenizer
from tests.e2e.apollo_cli import apollo

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

TASKS = ("data-construction-logs",)


def test_a_model_that_does_not_learn_fails_the_check_after_the_whole_path_ran() -> None:
    if not gguf_path().is_file():
        pytest.skip("the local model is not fetched: scripts/fetch-local-model")
    with tempfile.TemporaryDirectory(prefix="apollo-train-check-") as path:
        home = Path(path) / "home"
        tokenizer = load_sample_tokenizer(LOCAL_TOKENIZER).tokenizer
        model = tiny_llama(Path(path) / "tiny", tokenizer)
        task_options = [option for task in TASKS for option in ("--task", task)]
        try:
            # A learning rate this small leaves the loss where it was: the check must say so.
            result = apollo(
                home, "experiment", "train-check", "--base-model", str(model), "--lr", "1e-7",
                *task_options, "--json", check=False, timeout=840,
            )  # fmt: skip
            assert result.stdout.strip(), f"rc {result.returncode}, no output:\n{result.stderr}"
            outcome = json.loads(result.stdout.splitlines()[-1])
            lineage = json.loads(apollo(home, "lineage", outcome["checkpoint_id"], "--json").stdout)
        finally:
            apollo(home, "down", check=False)
    print(f"train-check: {outcome['loss']} in {outcome['stage_seconds']} s")
    assert result.returncode == 1, result.stderr
    assert outcome["passed"] is False
    assert outcome["loss"]["passed"] is False
    assert outcome["loss"]["last_pass"] == pytest.approx(outcome["loss"]["first_pass"], rel=0.01)
    # One sample per reference run, seen once per pass.
    assert outcome["samples"] == len(TASKS)
    assert outcome["steps"] == PASSES * len(TASKS) == len(outcome["losses"])
    # The checkpoint still ran the held-out task through the stack, and its prompts verify.
    assert outcome["prompts"]["actions"] >= 1
    assert outcome["prompts"]["matching"] == outcome["prompts"]["actions"]
    # The checkpoint descends from a dataset of exactly those reference runs.
    assert lineage["checkpoint"]["dataset_id"] == outcome["dataset_id"]
    assert len(lineage["trajectories"]) == len(TASKS)
    [evaluation] = lineage["evaluations"]
    assert evaluation["evaluation_trajectory_id"] == outcome["evaluation_trajectory_id"]
