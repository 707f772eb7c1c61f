"""What changed between two ruleset versions' verdicts: masks gained and lost, by rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.eventlog.verdict_model import VerdictRow

# How many changed actions a report shows per rule and side.
EXAMPLES = 3


@dataclass(frozen=True)
class MaskChanges:
    """Actions masked under A only and under B only (all, or those with one rule's reason)."""

    rule_id: str | None
    only_a: tuple[VerdictRow, ...]
    only_b: tuple[VerdictRow, ...]


@dataclass(frozen=True)
class VerdictDiff:
    """Two versions compared on the actions both judged."""

    version_a: str
    version_b: str
    compared: int
    masked_a: int
    masked_b: int
    overall: MaskChanges
    # One entry per rule whose masks changed, most changes first.
    rules: tuple[MaskChanges, ...]


def diff_verdicts(
    version_a: str, rows_a: Iterable[VerdictRow], version_b: str, rows_b: Iterable[VerdictRow]
) -> VerdictDiff:
    """Compare the verdicts of two versions on the actions both judged."""
    by_action_b = {row.action_id: row for row in rows_b}
    pairs = [(a, by_action_b[a.action_id]) for a in rows_a if a.action_id in by_action_b]
    rule_ids = sorted({rule for a, b in pairs for rule in (*a.rule_ids, *b.rule_ids)})
    changes = [_changes(rule, pairs) for rule in rule_ids]
    changes = [c for c in changes if c.only_a or c.only_b]
    changes.sort(key=lambda c: -(len(c.only_a) + len(c.only_b)))
    return VerdictDiff(
        version_a=version_a,
        version_b=version_b,
        compared=len(pairs),
        masked_a=sum(a.masked for a, _ in pairs),
        masked_b=sum(b.masked for _, b in pairs),
        overall=_changes(None, pairs),
        rules=tuple(changes),
    )


def _masks(row: VerdictRow, rule_id: str | None) -> bool:
    """Whether the row is masked (with `rule_id` among its reasons, when one is given)."""
    return row.masked and (rule_id is None or rule_id in row.rule_ids)


def _changes(rule_id: str | None, pairs: list[tuple[VerdictRow, VerdictRow]]) -> MaskChanges:
    return MaskChanges(
        rule_id,
        tuple(a for a, b in pairs if _masks(a, rule_id) and not _masks(b, rule_id)),
        tuple(b for a, b in pairs if _masks(b, rule_id) and not _masks(a, rule_id)),
    )
