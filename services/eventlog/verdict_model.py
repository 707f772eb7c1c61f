"""The verdict read model: one row per (action, ruleset version), and the recorded rulesets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import body_kind


@dataclass(frozen=True, slots=True)
class VerdictRow:
    """One action's verdict under one ruleset version, as the read model keeps it."""

    action_id: str
    ruleset_version: str
    trajectory_id: str
    step_index: int
    # "keep", "mask" or "unspecified".
    verdict: str
    # The rule ids of the verdict's reasons, in the order given.
    rule_ids: tuple[str, ...]
    # The archive position of the ActionJudged event this row came from.
    position: int

    @property
    def masked(self) -> bool:
        """Whether the action is dropped from the training loss under this version."""
        return self.verdict == "mask"


@dataclass(frozen=True, slots=True)
class RuleCounts:
    """How often one rule gave a reason under a version, and on how many masked actions."""

    fired: int
    masked: int


@dataclass(frozen=True)
class VersionCounts:
    """What one ruleset version judged: counts overall and per rule."""

    ruleset_version: str
    trajectories: int
    actions: int
    masked: int
    # The newest archive position among its verdicts: which version judged last.
    newest_position: int
    rules: Mapping[str, RuleCounts] = field(default_factory=dict)

    def as_json(self) -> dict:
        """A JSON-ready dict with the mask rates."""
        return {
            "ruleset_version": self.ruleset_version,
            "trajectories": self.trajectories,
            "actions": self.actions,
            "masked": self.masked,
            "mask_rate": _rate(self.masked, self.actions),
            "rules": {
                rule: {
                    "fired": counts.fired,
                    "masked": counts.masked,
                    "mask_rate": _rate(counts.masked, self.actions),
                }
                for rule, counts in sorted(self.rules.items())
            },
        }


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


def verdict_name(verdict: int) -> str:
    """The read model's spelling of a proto Verdict: "keep", "mask" or "unspecified"."""
    return pb.Verdict.Name(verdict).removeprefix("VERDICT_").lower()


def verdict_row(event: pb.Event, position: int) -> VerdictRow | None:
    """The row an ActionJudged event adds (the rule PgArchive applies in SQL); None otherwise."""
    if body_kind(event) != "action_judged":
        return None
    judged = event.action_judged
    return VerdictRow(
        action_id=judged.action_id,
        ruleset_version=judged.ruleset_version,
        trajectory_id=event.trajectory_id,
        step_index=judged.step_index,
        verdict=verdict_name(judged.verdict),
        rule_ids=tuple(reason.rule_id for reason in judged.reasons),
        position=position,
    )


def version_counts(version: str, rows: Iterable[VerdictRow]) -> VersionCounts:
    """Aggregate one version's rows (what PgArchive computes with GROUP BY)."""
    rows = list(rows)
    fired: Counter[str] = Counter()
    masked: Counter[str] = Counter()
    for row in rows:
        fired.update(set(row.rule_ids))
        if row.masked:
            masked.update(set(row.rule_ids))
    return VersionCounts(
        ruleset_version=version,
        trajectories=len({row.trajectory_id for row in rows}),
        actions=len(rows),
        masked=sum(row.masked for row in rows),
        newest_position=max(row.position for row in rows),
        rules={rule: RuleCounts(fired[rule], masked[rule]) for rule in fired},
    )


class VerdictReadModel(Protocol):
    """Verdicts by (action, ruleset version), filled by the archive's append; and rulesets."""

    async def verdicts(
        self, ruleset_version: str, trajectory_ids: Iterable[str] | None = None
    ) -> list[VerdictRow]:
        """A version's verdict rows (of some trajectories only), by trajectory then step."""

    async def verdict_versions(self) -> list[VersionCounts]:
        """Every ruleset version with verdicts, the one that judged last first."""

    async def record_ruleset(self, version: str, document: str) -> bool:
        """Keep a ruleset's canonical document under its version; False if already kept."""

    async def ruleset_document(self, version: str) -> str | None:
        """The canonical document recorded for a version, None if none was."""

    async def ruleset_versions(self) -> list[str]:
        """The version of every recorded ruleset."""


class InMemoryVerdictReadModel:
    """The verdict read model in memory; `InMemoryArchive` feeds it from its append."""

    def __init__(self) -> None:
        self._verdict_rows: dict[tuple[str, str], VerdictRow] = {}
        self._rulesets: dict[str, str] = {}

    def fold_verdict(self, event: pb.Event, position: int) -> None:
        """Add the row of a newly archived ActionJudged; the first verdict of a key wins."""
        row = verdict_row(event, position)
        if row is not None:
            self._verdict_rows.setdefault((row.action_id, row.ruleset_version), row)

    async def verdicts(
        self, ruleset_version: str, trajectory_ids: Iterable[str] | None = None
    ) -> list[VerdictRow]:
        """A version's verdict rows (of some trajectories only), by trajectory then step."""
        wanted = None if trajectory_ids is None else set(trajectory_ids)
        rows = [
            row
            for row in self._verdict_rows.values()
            if row.ruleset_version == ruleset_version
            and (wanted is None or row.trajectory_id in wanted)
        ]
        return sorted(rows, key=lambda row: (row.trajectory_id, row.step_index, row.action_id))

    async def verdict_versions(self) -> list[VersionCounts]:
        """Every ruleset version with verdicts, the one that judged last first."""
        by_version: dict[str, list[VerdictRow]] = {}
        for row in self._verdict_rows.values():
            by_version.setdefault(row.ruleset_version, []).append(row)
        counts = [version_counts(version, rows) for version, rows in by_version.items()]
        return sorted(counts, key=lambda c: c.newest_position, reverse=True)

    async def record_ruleset(self, version: str, document: str) -> bool:
        """Keep a ruleset's canonical document under its version; False if already kept."""
        if version in self._rulesets:
            return False
        self._rulesets[version] = document
        return True

    async def ruleset_document(self, version: str) -> str | None:
        """The canonical document recorded for a version, None if none was."""
        return self._rulesets.get(version)

    async def ruleset_versions(self) -> list[str]:
        """The version of every recorded ruleset."""
        return list(self._rulesets)
