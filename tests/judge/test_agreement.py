"""Agreement of mask verdicts with human labels and between judges: precision, recall and
Cohen's kappa, per rule and overall."""

from __future__ import annotations

import pytest

from apollo.v1 import events_pb2 as pb
from services.judge.agreement import (
    OVERALL,
    Agreement,
    against_labels,
    between_judges,
    compare,
    human_masks,
    verdicts_of,
)

pytestmark = pytest.mark.timeout(10)
V1, V2 = "sha256:v1", "sha256:v2"


def verdict(action: str, *rules: str, version: str = V1, masked: bool | None = None):
    """A verdict on `action`: masked when rules fired, unless `masked` says otherwise."""
    return pb.ActionJudged(
        action_id=action,
        ruleset_version=version,
        verdict=pb.VERDICT_MASK if (bool(rules) if masked is None else masked) else pb.VERDICT_KEEP,
        reasons=[pb.JudgeReason(rule_id=rule) for rule in rules],
    )


def pairs(predicted: str, reference: str) -> Agreement:
    """A table from two strings of m(ask)/k(eep), one letter per action."""
    return compare(
        "t",
        {str(n): p == "m" for n, p in enumerate(predicted)},
        {str(n): r == "m" for n, r in enumerate(reference)},
    )


@pytest.mark.parametrize(
    ("predicted", "reference", "precision", "recall", "kappa"),
    [
        pytest.param("mmkk", "mmkk", 1.0, 1.0, 1.0, id="perfect agreement"),
        pytest.param("mmkk", "kkmm", 0.0, 0.0, -1.0, id="perfect disagreement"),
        pytest.param("mmkk", "mkmk", 0.5, 0.5, 0.0, id="chance level"),
        pytest.param("mmmk", "mmkk", 2 / 3, 1.0, 0.5, id="one false mask"),
        pytest.param("kkkk", "kkkk", None, None, None, id="all keep on both sides"),
        pytest.param("mmmm", "mmmm", 1.0, 1.0, None, id="all mask on both sides"),
        pytest.param("mmmm", "mmkk", 0.5, 1.0, 0.0, id="judge masks everything"),
        pytest.param("kkkk", "mmkk", None, 0.0, 0.0, id="judge masks nothing"),
        pytest.param("", "", None, None, None, id="no actions"),
    ],
)
def test_precision_recall_and_kappa(
    predicted: str,
    reference: str,
    precision: float | None,
    recall: float | None,
    kappa: float | None,
) -> None:
    table = pairs(predicted, reference)
    assert table.actions == len(predicted)
    assert (table.precision, table.recall) == (pytest.approx(precision), pytest.approx(recall))
    assert table.kappa == pytest.approx(kappa)


def test_only_actions_both_sides_know_are_compared() -> None:
    table = compare("t", {"a": True, "b": False}, {"a": True, "c": True})
    assert (table.actions, table.true_masks) == (1, 1)


def test_the_newest_label_of_an_action_wins() -> None:
    labels = [
        pb.StepLabeled(action_id="a", label=pb.STEP_LABEL_MASK),
        pb.StepLabeled(action_id="b", label=pb.STEP_LABEL_MASK),
        pb.StepLabeled(action_id="a", label=pb.STEP_LABEL_KEEP),
    ]
    assert human_masks(labels) == {"a": False, "b": True}


def test_against_labels_reports_overall_then_each_rule() -> None:
    verdicts = [
        verdict("a", "repeat"),
        verdict("b", "repeat", "failed"),
        verdict("c", "failed"),
        verdict("d"),
        verdict("e", "repeat"),  # no label: not counted
        verdict("a", version=V2),  # another version
    ]
    labels = {"a": True, "b": True, "c": False, "d": False}
    report = against_labels(verdicts_of(verdicts, V1), labels)
    assert [
        (r.name, r.true_masks, r.false_masks, r.missed_masks, r.true_keeps) for r in report
    ] == [
        (OVERALL, 2, 1, 0, 1),
        ("failed", 1, 1, 1, 1),
        ("repeat", 2, 0, 0, 2),
    ]
    assert report[2].kappa == pytest.approx(1.0)
    assert report[0].as_json()["precision"] == pytest.approx(2 / 3)


def test_a_keep_rule_predicts_no_mask_on_a_kept_action() -> None:
    verdicts = [verdict("a", "human-approved", masked=False), verdict("b")]
    [overall, rule] = against_labels(verdicts, {"a": True, "b": False})
    assert (rule.name, rule.true_masks, rule.missed_masks, rule.true_keeps) == (
        "human-approved",
        0,
        1,
        1,
    )
    assert overall.recall == 0.0


def test_between_judges_compares_two_verdict_sets_overall_and_per_shared_rule() -> None:
    first = [verdict("a", "llm-judge"), verdict("b", "llm-judge"), verdict("c"), verdict("d")]
    second = [
        verdict("a", "llm-judge", version=V2),
        verdict("b", version=V2),
        verdict("c", "only-in-second", version=V2),
        verdict("d", version=V2),
    ]
    report = between_judges(first, second)
    assert [r.name for r in report] == [OVERALL, "llm-judge"]
    # llm-judge: a agrees (mask), b disagrees, c and d agree (keep): po 3/4, pe 1/2.
    assert report[1].kappa == pytest.approx(0.5)
    assert report[0].kappa == pytest.approx(0.0)  # overall: a, d agree; b, c do not
    assert between_judges(first, first)[0].kappa == pytest.approx(1.0)
