"""Re-judging the archive: selection, idempotence, budgets and plans, on the in-memory archive."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.topics import topic_for
from services.judge.kinds_actions import FailedAction, NullAction
from services.judge.rejudge import (
    Rejudging,
    Selection,
    UnknownTrajectories,
    judge_log,
    ruleset_document,
)
from services.judge.ruleset import Ruleset
from tests.judge.conftest import T0, Call, NullAnswer, ScriptedRun

pytestmark = pytest.mark.timeout(30)

LS = Call("list_files", {"path": "."}, fields={"content": "a.py"})
BROKEN = Call("open_file", {"path": "b.py"}, success=False, error="'b.py' is not a file")
OLD = Ruleset(rules=(FailedAction(id="failed", verdict="mask"),))
NEW = Ruleset(rules=(NullAction(id="null", verdict="mask"),))


class RecordingPublisher:
    """Keeps what a run published."""

    def __init__(self) -> None:
        self.published: list[pb.Event] = []

    async def publish_many(self, events: Sequence[pb.Event]) -> None:
        self.published.extend(events)


async def archived(
    archive: InMemoryArchive, *script, task: str = "judge-test", labels=None, hours: int = 0
) -> ScriptedRun:
    """A played trajectory, appended to the archive as the recorder would."""
    run = ScriptedRun()
    run.clock = T0 + timedelta(hours=hours)
    run.play(*script)
    run.events[0].trajectory_started.task_id = task
    run.events[0].trajectory_started.labels.update(labels or {})
    await archive.append([(topic_for(event).name, event) for event in run.events])
    return run


EVERYTHING = Selection()


async def rejudge(archive, ruleset, selection=EVERYTHING, **options):
    rejudging = Rejudging(archive, ruleset, selection, batch=2)
    return await rejudging.run(await rejudging.trajectory_ids(), **options)


async def test_every_action_gets_one_verdict_and_the_log_is_untouched() -> None:
    archive = InMemoryArchive()
    runs = [await archived(archive, LS, BROKEN, NullAnswer()) for _ in range(3)]
    logs_before = await archive.logs([run.trajectory_id for run in runs])

    tally = await rejudge(archive, NEW)

    assert (tally.trajectories, tally.actions, tally.judged, tally.recorded) == (3, 9, 9, 9)
    rows = await archive.verdicts(NEW.version)
    assert [(row.step_index, row.verdict, row.rule_ids) for row in rows[:3]] == [
        (0, "keep", ()),
        (1, "keep", ()),
        (2, "mask", ("null",)),
    ]
    assert await archive.logs([run.trajectory_id for run in runs]) == logs_before


async def test_a_second_run_adds_nothing() -> None:
    archive = InMemoryArchive()
    await archived(archive, LS, BROKEN)
    await rejudge(archive, NEW)
    count = await archive.count()

    again = await rejudge(archive, NEW)

    assert (again.actions, again.already_judged, again.judged, again.recorded) == (2, 2, 0, 0)
    assert await archive.count() == count


async def test_a_changed_ruleset_adds_its_own_verdicts_and_leaves_the_old_ones() -> None:
    archive = InMemoryArchive()
    await archived(archive, BROKEN, NullAnswer())
    await rejudge(archive, OLD)
    old_rows = await archive.verdicts(OLD.version)

    await rejudge(archive, NEW)

    assert await archive.verdicts(OLD.version) == old_rows
    assert [row.verdict for row in old_rows] == ["mask", "mask"]
    assert [row.verdict for row in await archive.verdicts(NEW.version)] == ["keep", "mask"]


async def test_the_selectors_combine() -> None:
    archive = InMemoryArchive()
    wanted = await archived(archive, LS, task="t1", labels={"exp": "a", "k": "v"}, hours=2)
    await archived(archive, LS, task="t1", labels={"exp": "b"}, hours=2)
    await archived(archive, LS, task="t2", labels={"exp": "a"}, hours=2)
    await archived(archive, LS, task="t1", labels={"exp": "a"}, hours=0)

    selection = Selection(task_id="t1", labels={"exp": "a"}, since=T0 + timedelta(hours=1))
    tally = await rejudge(archive, OLD, selection)

    assert tally.trajectories == 1
    assert {row.trajectory_id for row in await archive.verdicts(OLD.version)} == {
        wanted.trajectory_id
    }
    by_id = Selection(trajectory_ids=(wanted.trajectory_id,), task_id="t2")
    assert (await rejudge(archive, NEW, by_id)).trajectories == 0


async def test_an_unknown_trajectory_id_is_an_error_before_anything_is_recorded() -> None:
    archive = InMemoryArchive()
    await archived(archive, LS)
    rejudging = Rejudging(archive, OLD, Selection(trajectory_ids=("no-such-trajectory",)))

    with pytest.raises(UnknownTrajectories, match="no-such-trajectory"):
        await rejudging.trajectory_ids()


async def test_the_budget_caps_the_actions_judged_and_a_rerun_goes_on() -> None:
    archive = InMemoryArchive()
    for _ in range(3):
        await archived(archive, LS, BROKEN, LS)

    first = await rejudge(archive, OLD, budget=4)
    second = await rejudge(archive, OLD, budget=4)
    third = await rejudge(archive, OLD, budget=4)

    assert [(t.judged, t.budget_reached) for t in (first, second, third)] == [
        (4, True),
        (4, True),
        (1, False),
    ]
    rows = await archive.verdicts(OLD.version)
    assert len(rows) == len({row.action_id for row in rows}) == 9


async def test_a_plan_reads_only_and_counts_what_is_judged() -> None:
    archive = InMemoryArchive()
    await archived(archive, LS, BROKEN)
    await archived(archive, LS)
    await rejudge(archive, OLD, Selection(task_id="judge-test"), budget=1)
    count = await archive.count()

    rejudging = Rejudging(archive, OLD, Selection())
    plan = await rejudging.plan(await rejudging.trajectory_ids())

    assert (plan.trajectories, plan.actions, plan.already_judged, plan.judged) == (2, 3, 1, 0)
    assert await archive.count() == count


async def test_verdicts_are_published_as_appended_and_the_ruleset_is_recorded() -> None:
    archive = InMemoryArchive()
    run = await archived(archive, LS, BROKEN)
    publisher = RecordingPublisher()

    await rejudge(archive, NEW, publisher=publisher)

    expected = [
        (action.event_id, verdict.verdict.value) for action, verdict in judge_log(run.events, NEW)
    ]
    assert [
        (event.action_judged.action_id, event.causation_id) for event in publisher.published
    ] == [(action_id, action_id) for action_id, _ in expected]
    assert await archive.has(event.event_id for event in publisher.published) == {
        event.event_id for event in publisher.published
    }
    assert await archive.ruleset_document(NEW.version) == ruleset_document(NEW)
    assert Ruleset.model_validate_json(ruleset_document(NEW)).version == NEW.version
