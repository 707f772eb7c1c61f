"""The evaluation table: mean ± sd over seeds per checkpoint, variant and task."""

from __future__ import annotations

import math

import pytest

from apollo.v1 import events_pb2 as pb
from services.trainer.evaluation_report import ScoreSpread, markdown_table, report_rows

pytestmark = pytest.mark.timeout(10)


def scored(checkpoint: str, task: str, final: float, best: float, variant: str = ""):
    return pb.EvaluationScored(
        checkpoint_id=checkpoint, task_id=task, final_score=final, best_score=best, variant=variant
    )


def test_no_scores_make_an_empty_table_with_its_header() -> None:
    assert report_rows([]) == []
    assert markdown_table([]).splitlines()[0].startswith("| checkpoint | variant | task |")


def test_one_run_has_a_mean_and_no_deviation() -> None:
    [row] = report_rows([scored("ck", "t", 40.0, 60.0)])
    assert (row.runs, row.final, row.best) == (1, ScoreSpread(40.0, None), ScoreSpread(60.0, None))
    assert row.as_json()["final_sd"] is None
    assert "| ck | - | t | 1 | 40.0 | 60.0 |" in markdown_table([row])


def test_seeds_give_the_mean_and_sample_deviation() -> None:
    [row] = report_rows([scored("ck", "t", f, f + 10) for f in (10.0, 20.0, 30.0)])
    assert row.runs == 3
    assert row.final.mean == 20.0
    assert math.isclose(row.final.sd, 10.0)
    assert str(row.best) == "30.0 ± 10.0"


def test_identical_scores_have_zero_deviation() -> None:
    [row] = report_rows([scored("ck", "t", 50.0, 50.0)] * 2)
    assert row.final == ScoreSpread(50.0, 0.0)


def test_rows_split_by_checkpoint_variant_and_task_in_sorted_order() -> None:
    rows = report_rows(
        [
            scored("ck-b", "t1", 1.0, 1.0),
            scored("ck-a", "t2", 2.0, 2.0, "human"),
            scored("ck-a", "t2", 3.0, 3.0, "human+filter"),
            scored("ck-a", "t1", 4.0, 4.0, "human"),
        ]
    )
    keys = [(r.checkpoint_id, r.variant, r.task_id) for r in rows]
    assert keys == [
        ("ck-a", "human", "t1"),
        ("ck-a", "human", "t2"),
        ("ck-a", "human+filter", "t2"),
        ("ck-b", "", "t1"),
    ]


def test_a_pipe_in_a_label_does_not_break_the_table() -> None:
    table = markdown_table(report_rows([scored("ck", "t", 1.0, 1.0, "a|b")]))
    assert "| a\\|b |" in table
