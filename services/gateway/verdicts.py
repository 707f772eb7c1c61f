"""A trajectory's verdicts, read from its archived events: the ruleset versions that judged
it, and the verdicts of one of them (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import ArchivedEvent
from services.eventlog.topics import VERDICTS

VERDICT_NAMES = {pb.VERDICT_KEEP: "keep", pb.VERDICT_MASK: "mask"}


class UnknownRulesetVersion(LookupError):
    """No verdict of this ruleset version is about the trajectory."""


@dataclass(frozen=True)
class RulesetJudgement:
    """How one ruleset version judged a trajectory: actions judged, and how many masked."""

    ruleset_version: str
    actions_judged: int
    actions_masked: int

    def as_json(self) -> dict:
        """A JSON-ready dict."""
        return {
            "ruleset_version": self.ruleset_version,
            "actions_judged": self.actions_judged,
            "actions_masked": self.actions_masked,
        }


class TrajectoryVerdicts:
    """The verdicts of one trajectory, by ruleset version in the order they first judged it."""

    def __init__(self, records: Iterable[ArchivedEvent]) -> None:
        # Per version, per action: a re-delivered or re-run verdict replaces the one before.
        self._by_version: dict[str, dict[str, pb.Event]] = {}
        for record in records:
            if record.topic == VERDICTS.name and record.kind == "action_judged":
                body = record.event.action_judged
                self._by_version.setdefault(body.ruleset_version, {})[body.action_id] = record.event

    def versions(self) -> list[RulesetJudgement]:
        """The versions that judged the trajectory, newest first."""
        return [
            RulesetJudgement(
                version,
                len(verdicts),
                sum(1 for e in verdicts.values() if e.action_judged.verdict == pb.VERDICT_MASK),
            )
            for version, verdicts in reversed(self._by_version.items())
        ]

    def as_json(self, ruleset_version: str | None) -> dict:
        """The API's view: the version asked for (else the newest), its verdicts in step
        order, and every version that judged the trajectory."""
        shown = self._chosen(ruleset_version)
        verdicts = sorted(
            self._by_version.get(shown, {}).values() if shown else (),
            key=lambda event: event.action_judged.step_index,
        )
        return {
            "ruleset_version": shown,
            "versions": [version.as_json() for version in self.versions()],
            "verdicts": [verdict_json(event) for event in verdicts],
        }

    def _chosen(self, ruleset_version: str | None) -> str | None:
        if ruleset_version is None:
            return next(reversed(self._by_version), None)
        if ruleset_version not in self._by_version:
            known = ", ".join(self._by_version) or "none"
            raise UnknownRulesetVersion(
                f"ruleset version {ruleset_version!r} did not judge this trajectory "
                f"(versions that did: {known})"
            )
        return ruleset_version


def verdict_json(event: pb.Event) -> dict:
    """One ActionJudged event as the API's verdict: keep or mask, and readable reasons."""
    body = event.action_judged
    return {
        "action_id": body.action_id,
        "step_index": body.step_index,
        "verdict": VERDICT_NAMES[body.verdict],  # validation refuses an unspecified one
        "reasons": [
            {
                "rule_id": reason.rule_id,
                "detail": reason.detail,
                "evidence_step_indices": list(reason.evidence_step_indices),
                "quote": reason.quote,
            }
            for reason in body.reasons
        ],
    }
