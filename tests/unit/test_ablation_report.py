"""The ablation report and plot, drawn from hand-built results."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from services.cli.experiments.ablation_plot import draw_scores
from services.cli.experiments.ablation_report import markdown_report, relative_change
from services.cli.experiments.ablation_results import (
    UNTRAINED_VARIANT,
    AblationResults,
    AnnotatorFacts,
    DatasetFacts,
    StudentScores,
)
from services.judge.agreement import Agreement


def student(variant: str, finals: tuple[float, ...], null_rate: float = 0.1) -> StudentScores:
    ids = tuple(f"ckpt-{variant}-{n}" for n in range(len(finals)))
    best = tuple(score + 5 for score in finals)
    return StudentScores(variant, ids, finals, best, null_rate)


def dataset(variant: str, masked: int, guidance: int) -> DatasetFacts:
    return DatasetFacts(
        variant=variant,
        dataset_id=f"ds-{variant}",
        ruleset_version="sha256:rules" if "filter" in variant else "sha256:none",
        trajectory_ids=("t1", "t2"),
        samples=14,
        trained_turns=30 - masked,
        masked_turns=masked,
        actions=30,
        masked_actions=masked,
        steps=40,
        guidance=guidance,
        mean_collection_score=62.5,
    )


def results() -> AblationResults:
    return AblationResults(
        experiment="abl",
        size="small",
        teacher="simulated (deviation rate 0.3)",
        simulated_teacher=True,
        student_model="SmolLM2-135M",
        heldout=("data-filtering-dedup#1000",),
        students=(
            student("human+filter", (30.0, 40.0)),
            student("human", (20.0, 30.0)),
            student("filter", (20.0, 20.0)),
            student("neither", (10.0, 10.0)),
            student(UNTRAINED_VARIANT, (20.0,)),
        ),
        datasets=(
            dataset("human+filter", 6, 4),
            dataset("human", 0, 4),
            dataset("filter", 9, 0),
            dataset("neither", 0, 0),
        ),
        judge=(Agreement("polling-loop", 3, 1, 7, 29), Agreement("sleep-twice", 0, 0, 10, 30)),
        judge_recall_by_mistake={"polling_loop": 0.5},
        annotator=AnnotatorFacts(
            guided_trajectories=2,
            guidance=4,
            response_seconds=(1.0, 3.0),
            attention_seconds=(10.0, 20.0),
        ),
    )


def test_relative_change_is_a_percentage_of_the_baseline_and_refuses_a_zero_baseline() -> None:
    assert relative_change(35.0, 20.0) == "+75.0%"
    assert relative_change(10.0, 20.0) == "-50.0%"
    assert relative_change(5.0, 0.0) == "n/a (baseline 0)"


def test_the_report_has_the_two_by_two_table_changes_rates_and_lineage() -> None:
    report = markdown_report(results(), "scores.png")
    assert (
        "| human guidance | 35.0 ± 7.1 (best 40.0 ± 7.1) | 25.0 ± 7.1 (best 30.0 ± 7.1) |" in report
    )
    assert (
        "| no human guidance | 20.0 ± 0.0 (best 25.0 ± 0.0) | 10.0 ± 0.0 (best 15.0 ± 0.0) |"
        in report
    )
    assert "Untrained SmolLM2-135M: 20.0 (best 25.0)." in report
    # human+filter: 35 vs untrained 20 and vs filter (no human) 20.
    assert "| human+filter | 35.0 | +75.0% | +75.0% | 0.10 |" in report
    assert "| variant | final | vs untrained | vs no human (filter) | null-action rate |" in report
    assert "| human+filter | ds-human+filter | 2 | 14 | 24 | 0.20 | 10.0 | 62.5 |" in report
    assert "| polling-loop | 4 | 3 | 0.75 | 0.30 |" in report
    assert "| sleep-twice | 0 | 0 | - | 0.00 |" in report
    assert "| polling_loop | 0.50 |" in report
    assert "4 guidance messages over 2 guided trajectories (2.0 each)" in report
    assert "2.0 s" in report
    assert "15.0 s per guided trajectory" in report
    assert "**simulated**" in report
    assert "Teacher: simulated (deviation rate 0.3)." in report
    assert "## The judge against the teacher's known deviations" in report
    assert "Not measurable" not in report
    assert "![Held-out scores by variant](scores.png)" in report
    assert (
        "checkpoints ckpt-human+filter-0, ckpt-human+filter-1 from dataset ds-human+filter"
        in report
    )
    assert f"**{UNTRAINED_VARIANT}**: checkpoints ckpt-untrained-0 from the base model" in report


def model_taught() -> AblationResults:
    """The same results as a model teacher's run: no ground truth to measure the judge by."""
    return dataclasses.replace(
        results(),
        teacher="anthropic:claude-teacher",
        simulated_teacher=False,
        judge=None,
        judge_recall_by_mistake=None,
    )


def test_a_model_teachers_report_names_it_and_says_what_it_cannot_measure() -> None:
    report = markdown_report(model_taught(), "scores.png")
    assert "Teacher: anthropic:claude-teacher." in report
    assert "is **anthropic:claude-teacher**, a model whose mistakes are its own" in report
    assert (
        "Not measurable: the teacher is anthropic:claude-teacher, whose mistakes are not known."
        in report
    )
    assert "simulated (deviation rate" not in report
    assert "**simulated**" not in report
    assert "| rule | masked |" not in report
    # The rest of the report is the same.
    assert "| human+filter | 35.0 | +75.0% | +75.0% | 0.10 |" in report


def test_a_model_teachers_json_has_no_judge_measure_and_its_plot_draws(tmp_path: Path) -> None:
    data = json.loads(json.dumps(model_taught().as_json()))
    assert data["teacher"] == "anthropic:claude-teacher"
    assert data["simulated_teacher"] is False
    assert data["judge"] is None
    assert data["judge_recall_by_mistake"] is None
    draw_scores(model_taught(), tmp_path / "scores.png")
    assert (tmp_path / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_json_carries_every_number_and_the_derived_rates() -> None:
    data = json.loads(json.dumps(results().as_json()))
    assert data["students"][0]["final"] == {"mean": 35.0, "sd": 7.0710678118654755}
    assert data["datasets"][2]["mask_rate"] == 0.3
    assert data["judge"][1]["precision"] is None


def test_the_plot_is_a_png(tmp_path: Path) -> None:
    path = tmp_path / "scores.png"
    draw_scores(results(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000
