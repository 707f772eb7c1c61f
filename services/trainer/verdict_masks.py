"""Which actions one ruleset version masks, read from archived ActionJudged events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import ArchivedEvent
from services.eventlog.topics import VERDICTS


class UnknownRulesetVersion(LookupError):
    """No verdict of the asked ruleset version is about any selected trajectory."""


@dataclass
class RulesetMasks:
    """One ruleset version's masked actions: action id -> the rule ids behind the mask."""

    ruleset_version: str
    judged: int = 0
    masked: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def read(cls, ruleset_version: str, records: Iterable[ArchivedEvent]) -> RulesetMasks:
        """The version's verdicts among `records`; a later verdict on an action replaces one."""
        verdicts: dict[str, pb.ActionJudged] = {}
        for record in records:
            if record.topic == VERDICTS.name and record.kind == "action_judged":
                body = record.event.action_judged
                if body.ruleset_version == ruleset_version:
                    verdicts[body.action_id] = body
        masked = {
            action_id: tuple(reason.rule_id for reason in body.reasons)
            for action_id, body in verdicts.items()
            if body.verdict == pb.VERDICT_MASK
        }
        return cls(ruleset_version, len(verdicts), masked)

    def rules_masking(self, action_id: str) -> tuple[str, ...] | None:
        """The rules of the mask verdict on the action; None when it is trained."""
        return self.masked.get(action_id)
