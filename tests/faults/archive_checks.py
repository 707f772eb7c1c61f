"""What must hold of one archived trajectory after any crash: small checks that read the archive.

Each check takes the trajectory's archived events in log order and raises AssertionError
with what it found; the chaos suite runs them all, and any other test can run one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import ArchivedEvent
from services.trajectory import fold
from services.trajectory.digest_check import check_digests


def of_kind(events: Iterable[pb.Event], kind: str) -> list:
    """The bodies of the events of this kind (the name of the oneof field), in log order."""
    return [getattr(event, kind) for event in events if event.HasField(kind)]


def archived_once(records: list[ArchivedEvent]) -> None:
    """No event is in the archive twice."""
    repeated = [i for i, n in Counter(r.event.event_id for r in records).items() if n > 1]
    assert not repeated, f"archived more than once: {repeated}"


def ended_once(events: list[pb.Event], reason: int = pb.END_REASON_FINISHED) -> None:
    """The trajectory ended exactly once, for `reason`, after as many steps as it proposed."""
    ended = [(end.reason, end.steps) for end in of_kind(events, "trajectory_ended")]
    steps = len(of_kind(events, "action_proposed"))
    assert ended == [(reason, steps)], f"ends {ended}, {steps} steps proposed"


def steps_once(events: list[pb.Event]) -> None:
    """Every step is proposed once, in order, and observed once, in the same order."""
    actions = [event for event in events if event.HasField("action_proposed")]
    indices = [action.action_proposed.step_index for action in actions]
    assert indices == list(range(len(actions))), f"proposed steps {indices}"
    observed = [(o.action_id, o.step_index) for o in of_kind(events, "observation_recorded")]
    expected = [(action.event_id, action.action_proposed.step_index) for action in actions]
    assert observed == expected, f"observations {observed} of actions {expected}"


def finished_after(events: list[pb.Event], steps: int) -> None:
    """A run of `steps` steps: each proposed and observed once, in order, and one finished end."""
    steps_once(events)
    ended_once(events)
    proposed = len(of_kind(events, "action_proposed"))
    assert proposed == steps, f"{proposed} steps proposed, not {steps}"


def prompts_verify(events: list[pb.Event], trajectory_id: str) -> None:
    """Every action's prompt re-renders to its digest (what `apollo trajectory verify` checks)."""
    wrong = [c for c in check_digests(fold(events, trajectory_id)) if not c.matches]
    assert not wrong, f"prompts that do not verify: {wrong}"


def guidance_delivered_once(events: list[pb.Event], accepted: Iterable[str]) -> None:
    """Every accepted guidance message is archived once and delivered into exactly one prompt,
    one after it in the log; no message is delivered twice."""
    archived = Counter(event.event_id for event in events if event.HasField("guidance_submitted"))
    position = {event.event_id: n for n, event in enumerate(events)}
    deliveries: Counter[str] = Counter()
    for n, event in enumerate(events):
        if event.HasField("action_proposed"):
            for guidance_id in event.action_proposed.delivered_guidance_ids:
                deliveries[guidance_id] += 1
                assert position.get(guidance_id, n) < n, f"{guidance_id} delivered before it came"
    twice = [guidance_id for guidance_id, n in deliveries.items() if n > 1]
    assert not twice, f"guidance delivered more than once: {twice}"
    accepted = list(accepted)
    not_archived = [guidance_id for guidance_id in accepted if archived[guidance_id] != 1]
    assert not not_archived, f"accepted guidance not archived once: {not_archived}"
    undelivered = [guidance_id for guidance_id in accepted if not deliveries[guidance_id]]
    assert not undelivered, f"accepted guidance never delivered: {undelivered}"


def verdicts_once(events: list[pb.Event], versions: Iterable[str]) -> None:
    """Each ruleset version judged every action exactly once, and no other version judged."""
    actions = sorted(event.event_id for event in events if event.HasField("action_proposed"))
    judged: dict[str, list[str]] = {}
    for verdict in of_kind(events, "action_judged"):
        judged.setdefault(verdict.ruleset_version, []).append(verdict.action_id)
    assert set(judged) == set(versions), f"judged by {sorted(judged)}, expected {sorted(versions)}"
    for version, action_ids in judged.items():
        assert sorted(action_ids) == actions, (
            f"{version}: {len(action_ids)} verdicts on {len(set(action_ids))} of "
            f"{len(actions)} actions"
        )


def judged_by_all(events: list[pb.Event], versions: Iterable[str]) -> bool:
    """True once each version has at least as many verdicts as there are actions."""
    actions = len(of_kind(events, "action_proposed"))
    counts = Counter(verdict.ruleset_version for verdict in of_kind(events, "action_judged"))
    return all(counts[version] >= actions for version in versions)
