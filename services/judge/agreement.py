"""How far a ruleset's mask verdicts agree with annotators' labels, another judge, or a
simulated teacher's known deviations: precision, recall and Cohen's kappa, per rule and
overall (pure; mask is the positive class)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from apollo.v1 import events_pb2 as pb
from services.eventlog.verdict_model import VerdictRow

OVERALL = "(overall)"


@dataclass(frozen=True, slots=True)
class Agreement:
    """A 2x2 table of masked-or-not, one judge (predicted) against a reference."""

    name: str
    true_masks: int
    false_masks: int
    missed_masks: int
    true_keeps: int

    @property
    def actions(self) -> int:
        """Actions both sides have a say about."""
        return self.true_masks + self.false_masks + self.missed_masks + self.true_keeps

    @property
    def precision(self) -> float | None:
        """Of the actions predicted masked, the share the reference masks (None if none)."""
        predicted = self.true_masks + self.false_masks
        return self.true_masks / predicted if predicted else None

    @property
    def recall(self) -> float | None:
        """Of the actions the reference masks, the share predicted masked (None if none)."""
        masked = self.true_masks + self.missed_masks
        return self.true_masks / masked if masked else None

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa; None when chance alone explains everything (both sides say one
        class only) or there are no actions."""
        n = self.actions
        if n == 0:
            return None
        observed = (self.true_masks + self.true_keeps) / n
        predicted_mask = (self.true_masks + self.false_masks) / n
        reference_mask = (self.true_masks + self.missed_masks) / n
        chance = predicted_mask * reference_mask + (1 - predicted_mask) * (1 - reference_mask)
        return None if chance == 1 else (observed - chance) / (1 - chance)

    def as_json(self) -> dict:
        """A JSON-ready dict, with the derived figures."""
        return {
            "name": self.name,
            "actions": self.actions,
            "true_masks": self.true_masks,
            "false_masks": self.false_masks,
            "missed_masks": self.missed_masks,
            "true_keeps": self.true_keeps,
            "precision": self.precision,
            "recall": self.recall,
            "kappa": self.kappa,
        }


def compare(name: str, predicted: Mapping[str, bool], reference: Mapping[str, bool]) -> Agreement:
    """The agreement of two masked-or-not maps over the action ids both have."""
    pairs = [(predicted[action], reference[action]) for action in predicted if action in reference]
    return Agreement(
        name,
        true_masks=sum(1 for p, r in pairs if p and r),
        false_masks=sum(1 for p, r in pairs if p and not r),
        missed_masks=sum(1 for p, r in pairs if not p and r),
        true_keeps=sum(1 for p, r in pairs if not p and not r),
    )


def verdicts_of(verdicts: Iterable[pb.ActionJudged], ruleset_version: str) -> list[pb.ActionJudged]:
    """The verdicts of one ruleset version."""
    return [verdict for verdict in verdicts if verdict.ruleset_version == ruleset_version]


def mask_map(verdicts: Iterable[pb.ActionJudged], rule_id: str | None = None) -> dict[str, bool]:
    """Whether each judged action is masked; with `rule_id`, masked with that rule among its
    reasons (so a keep rule that fired beside a mask rule shares that mask)."""
    return {
        v.action_id: v.verdict == pb.VERDICT_MASK
        and (rule_id is None or any(reason.rule_id == rule_id for reason in v.reasons))
        for v in verdicts
    }


def human_masks(labels: Iterable[pb.StepLabeled]) -> dict[str, bool]:
    """Whether annotators mask each action, labels in log order: the newest label wins."""
    return {label.action_id: label.label == pb.STEP_LABEL_MASK for label in labels}


def against_labels(
    verdicts: Sequence[pb.ActionJudged], labels: Mapping[str, bool]
) -> list[Agreement]:
    """One ruleset version's verdicts against the human labels: overall, then per rule."""
    return _agreements(verdicts, lambda _rule_id: labels, _rule_ids(verdicts))


def between_judges(
    first: Sequence[pb.ActionJudged], second: Sequence[pb.ActionJudged]
) -> list[Agreement]:
    """Two judges' verdicts (two versions, models or seeds): overall, then per rule id both
    have (the LLM rule under two models, for example)."""
    shared = sorted(set(_rule_ids(first)) & set(_rule_ids(second)))
    return _agreements(first, lambda rule_id: mask_map(second, rule_id), shared)


def _rule_ids(verdicts: Sequence[pb.ActionJudged]) -> list[str]:
    return sorted({reason.rule_id for verdict in verdicts for reason in verdict.reasons})


def _agreements(
    predicted: Sequence[pb.ActionJudged],
    reference_for: Callable[[str | None], Mapping[str, bool]],
    rule_ids: Sequence[str],
) -> list[Agreement]:
    overall = compare(OVERALL, mask_map(predicted), reference_for(None))
    return [overall, *(compare(r, mask_map(predicted, r), reference_for(r)) for r in rule_ids)]


def row_masks(rows: Iterable[VerdictRow], rule_id: str | None = None) -> dict[str, bool]:
    """`mask_map` over the verdict read model's rows."""
    return {
        row.action_id: row.masked and (rule_id is None or rule_id in row.rule_ids) for row in rows
    }


def against_deviations(
    rows: Sequence[VerdictRow], deviant: Mapping[str, Collection[int]]
) -> list[Agreement]:
    """One ruleset version's verdict rows against known deviations (a simulated teacher's
    deviant step indices, by trajectory id): overall, then per rule."""
    truth = {row.action_id: row.step_index in deviant.get(row.trajectory_id, ()) for row in rows}
    rule_ids = sorted({rule_id for row in rows for rule_id in row.rule_ids})
    overall = compare(OVERALL, row_masks(rows), truth)
    return [overall, *(compare(r, row_masks(rows, r), truth) for r in rule_ids)]


def recall_by_kind(
    rows: Sequence[VerdictRow], kinds: Mapping[str, Mapping[int, str]]
) -> dict[str, float]:
    """Of the deviant actions of each kind (step index -> kind, by trajectory id), the share
    the ruleset masks: which mistakes the judge sees."""
    masked_of: dict[str, list[bool]] = {}
    for row in rows:
        kind = kinds.get(row.trajectory_id, {}).get(row.step_index)
        if kind is not None:
            masked_of.setdefault(kind, []).append(row.masked)
    return {kind: sum(masks) / len(masks) for kind, masks in sorted(masked_of.items())}
