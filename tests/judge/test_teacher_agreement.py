"""The judge measured against a simulated teacher's known deviations, per rule and per kind."""

from __future__ import annotations

import pytest

from services.eventlog.verdict_model import VerdictRow
from services.judge.agreement import OVERALL, against_deviations, recall_by_kind

pytestmark = pytest.mark.timeout(10)


def row(trajectory: str, step: int, verdict: str, *rules: str) -> VerdictRow:
    return VerdictRow(f"{trajectory}-{step}", "v1", trajectory, step, verdict, rules, step)


ROWS = [
    row("t1", 0, "keep"),
    row("t1", 1, "mask", "failed-action"),
    row("t1", 2, "keep", "depends-on-masked"),
    row("t1", 3, "mask", "failed-action", "polling-loop"),
    row("t1", 4, "keep"),
    row("t2", 0, "mask", "polling-loop"),
    row("t2", 1, "keep"),
]
DEVIANT = {"t1": {1, 2}, "t2": {0}}


def test_precision_and_recall_overall_and_per_rule_against_the_deviant_steps() -> None:
    table = {a.name: a for a in against_deviations(ROWS, DEVIANT)}
    assert list(table) == [OVERALL, "depends-on-masked", "failed-action", "polling-loop"]
    overall = table[OVERALL]
    assert (overall.true_masks, overall.false_masks, overall.missed_masks) == (2, 1, 1)
    assert (overall.precision, overall.recall) == (2 / 3, 2 / 3)
    for rule in ("failed-action", "polling-loop"):
        assert (table[rule].precision, table[rule].recall) == (1 / 2, 1 / 3)
    # A keep rule masks nothing: no precision to speak of, and it finds no deviation.
    assert (table["depends-on-masked"].precision, table["depends-on-masked"].recall) == (None, 0)


def test_a_trajectory_without_deviations_counts_its_masks_as_false() -> None:
    (overall, *_) = against_deviations(ROWS, {"t1": {1, 2}})
    assert (overall.true_masks, overall.false_masks, overall.missed_masks) == (1, 2, 1)


def test_recall_by_kind_says_which_mistakes_the_judge_sees() -> None:
    kinds = {"t1": {1: "wrong_path", 2: "broken_edit"}, "t2": {0: "polling_loop"}}
    assert recall_by_kind(ROWS, kinds) == {
        "broken_edit": 0.0,
        "polling_loop": 1.0,
        "wrong_path": 1.0,
    }
