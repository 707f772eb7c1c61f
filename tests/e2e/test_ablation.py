"""`apollo experiment ablation --size small` end to end on the embedded stack: it checks the
pipeline (collect, judge, the four datasets, training, held-out evaluation, the report), not
the result, so its student is a tiny model that shares the local model's tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench._training_inputs import tiny_llama
from services.trainer.tokenization import LOCAL_TOKENIZER, load_sample_tokenizer
from tests.e2e.apollo_cli import apollo
from tests.e2e.conftest import embedded_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SERVICES = "recorder,sandbox,summarizer,policy,gateway"
VARIANTS = ["human+filter", "human", "filter", "neither", "untrained"]


def tiny_student(directory: Path) -> Path:
    """A randomly initialised 2-layer Llama with the local model's tokenizer."""
    return tiny_llama(directory, load_sample_tokenizer(LOCAL_TOKENIZER).tokenizer)


def test_the_small_ablation_runs_end_to_end_and_a_rerun_adds_nothing(tmp_path: Path) -> None:
    student = tiny_student(tmp_path / "student")
    out = tmp_path / "report"
    args = ("experiment", "ablation", "--size", "small", "--student", str(student))
    with embedded_stack(SERVICES) as home:
        first = json.loads(apollo(home, *args, "--out", str(out), "--json", timeout=840).stdout)
        trajectories = apollo(home, "trajectories", "--json").stdout

        results = json.loads((out / "results.json").read_text())
        assert [s["variant"] for s in results["students"]] == VARIANTS
        assert first["final"] == {s["variant"]: s["final"]["mean"] for s in results["students"]}
        datasets = {d["variant"]: d for d in results["datasets"]}
        assert len({d["dataset_id"] for d in datasets.values()}) == 4
        # The keep-all ruleset masks nothing; the default one masks the teacher's loud mistakes
        # (its plan for these two instances holds a wrong path and a polling loop).
        assert datasets["human"]["masked_actions"] == datasets["neither"]["masked_actions"] == 0
        assert datasets["filter"]["masked_actions"] > 0
        assert datasets["human+filter"]["masked_actions"] > 0
        # The annotator steered the guided arm only.
        assert datasets["human+filter"]["guidance"] > 0
        assert datasets["filter"]["guidance"] == datasets["neither"]["guidance"] == 0
        overall = results["judge"][0]
        assert overall["name"] == "(overall)"
        assert overall["true_masks"] > 0
        assert results["teacher"].startswith("simulated")
        assert results["simulated_teacher"] is True
        # The gateway recorded the simulated annotator's attention on the guided runs.
        assert sum(results["annotator"]["attention_seconds"]) > 0
        report = (out / "report.md").read_text()
        assert "| human guidance |" in report
        assert "**simulated**" in report
        assert (out / "scores.png").read_bytes()[:4] == b"\x89PNG"

        again = json.loads(apollo(home, *args, "--json", timeout=600).stdout)
        assert again["final"] == first["final"]
        # Nothing was collected or evaluated twice.
        assert apollo(home, "trajectories", "--json").stdout == trajectories
