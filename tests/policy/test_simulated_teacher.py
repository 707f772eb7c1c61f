"""The simulated teacher: the reference with planned mistakes that last until guidance."""

from __future__ import annotations

import json

import pytest
from log_book import LogBook

from apollo.v1 import events_pb2 as pb
from services.cli.run_commands import outcome
from services.policy.backends import Backends
from services.tasks.packs import TaskCatalog, ToolCallSpec
from services.tasks.starting import BadPolicy, started_event
from services.tasks.teacher import (
    BadTeacher,
    TeacherCall,
    TeacherConfig,
    deviations,
    plan,
    teacher_calls,
    walk,
)
from services.tasks.teacher_mistakes import WRONG_DIRECTORY, Mistake
from services.trajectory import fold
from services.trajectory.prompt import render_next_prompt

pytestmark = pytest.mark.timeout(30)

CATALOG = TaskCatalog()
DEDUP = CATALOG.get("data-filtering-dedup")


def started(task_id: str, config: TeacherConfig) -> pb.TrajectoryStarted:
    pack = CATALOG.get(task_id)
    event = started_event(
        pack, "teacher:simulated", started_by="test", service="test", labels=config.labels()
    )
    return event.trajectory_started


def calls(made) -> list[tuple[str, dict]]:
    return [(teacher.call.tool, dict(teacher.call.arguments)) for teacher in made]


def reference_calls(task_id: str) -> list[tuple[str, dict]]:
    return [(step.tool, dict(step.arguments)) for step in CATALOG.get(task_id).reference()]


@pytest.mark.parametrize("task_id", CATALOG.ids())
def test_at_rate_zero_the_teacher_is_the_reference(task_id: str) -> None:
    body = started(task_id, TeacherConfig(seed=3, rate=0.0))
    made = walk(body, [False] * (len(body.scripted_calls) + 2))
    assert calls(made)[: len(body.scripted_calls)] == reference_calls(task_id)
    assert all(teacher.mistake is None for teacher in made)


def test_the_same_seed_makes_the_same_calls_and_other_seeds_other_ones() -> None:
    def run(seed: int) -> list:
        made = []
        for task_id in CATALOG.ids():
            body = started(task_id, TeacherConfig(seed=seed, rate=0.4))
            made.append(calls(walk(body, [step == 6 for step in range(15)])))
        return made

    assert run(11) == run(11)
    assert len({str(run(seed)) for seed in range(4)}) == 4


def test_a_rate_of_one_plans_a_mistake_wherever_one_fits() -> None:
    reference = DEDUP.reference()
    planned = plan(reference, TeacherConfig(rate=1.0, mistakes=frozenset({Mistake.WRONG_PATH})))
    # list_files and open_file (reference steps 0 and 1) name paths; nothing else reads one.
    assert {at: episode.mistake for at, episode in planned.items()} == {
        0: Mistake.WRONG_PATH,
        1: Mistake.WRONG_PATH,
    }


def test_a_broken_edit_is_retried_until_guidance_then_repaired_and_the_run_redone() -> None:
    body = started(DEDUP.id, TeacherConfig(rate=1.0, mistakes=frozenset({Mistake.BROKEN_EDIT})))
    reference = DEDUP.reference()
    create, run = reference[2], reference[3]
    unguided = walk(body, [False] * 9)
    # Planned before the creation of filter.py (step 2): it writes a file that does not parse
    # and reruns the failing command from then on.
    assert unguided[2].mistake is Mistake.BROKEN_EDIT
    assert unguided[2].call.tool == "create_file"
    assert unguided[2].call.arguments["content"] != create.arguments["content"]
    assert [teacher.call for teacher in unguided[3:]] == [run] * 6
    assert [teacher.mistake for teacher in unguided[3:]] == [None, *[Mistake.BROKEN_EDIT] * 5]

    guided = walk(body, [step == 5 for step in range(9)])
    assert guided[:5] == unguided[:5]
    repair = guided[5].call
    assert (repair.tool, repair.arguments["path"]) == ("edit_file", "filter.py")
    assert repair.arguments["content"] == create.arguments["content"]
    assert [teacher.call for teacher in guided[6:]] == [run, reference[4], reference[5]]
    assert all(teacher.mistake is None for teacher in guided[5:])


def test_a_loop_lasts_until_guidance_and_then_the_reference_goes_on() -> None:
    body = started(DEDUP.id, TeacherConfig(rate=1.0, mistakes=frozenset({Mistake.WRONG_PATH})))
    made = walk(body, [step == 4 for step in range(7)])
    wrong = ToolCallSpec(tool="list_files", arguments={"path": WRONG_DIRECTORY})
    assert [teacher.call for teacher in made[:4]] == [wrong] * 4
    # Guided at step 4, it lists the right directory, then errs again before open_file.
    assert made[4] == TeacherCall(DEDUP.reference()[0])
    assert made[5].mistake is Mistake.WRONG_PATH
    assert made[5].call.arguments["path"].startswith(f"{WRONG_DIRECTORY}/")


def test_a_quiet_mistake_stays_without_guidance() -> None:
    config = TeacherConfig(rate=1.0, mistakes=frozenset({Mistake.WRONG_COMPUTATION}))
    made = walk(started(DEDUP.id, config), [False] * 8)
    assert [teacher.mistake for teacher in made[:6]] == [
        None, None, Mistake.WRONG_COMPUTATION, None, None, None,
    ]  # fmt: skip
    assert " > 5" in made[2].call.arguments["content"]
    assert made[5].call.tool == "finish"


def teach(book: LogBook, guidance_before: set[int], steps: int) -> None:
    """Run the teacher as the policy does: each step its call for the folded log."""
    for index in range(steps):
        if index in guidance_before:
            book.guidance("look again at the path you are using")
        made = teacher_calls(fold(book.events))[-1]
        book.step(made.call.tool, dict(made.call.arguments))


def teacher_book(config: TeacherConfig) -> LogBook:
    book = LogBook()
    book.add(started(DEDUP.id, config), service="cli")
    return book


def test_the_ground_truth_is_the_deviations_made_and_where_guidance_came() -> None:
    config = TeacherConfig(seed=5, rate=1.0, mistakes=frozenset({Mistake.WRONG_PATH}))
    book = teacher_book(config)
    teach(book, guidance_before={3, 6}, steps=8)
    state = fold(book.events)
    body = state.started.trajectory_started
    delivered = [bool(step.action.action_proposed.delivered_guidance_ids) for step in state.steps]
    assert [i for i, flag in enumerate(delivered) if flag] == [3, 6]
    expected = {
        i: teacher.mistake for i, teacher in enumerate(walk(body, delivered)) if teacher.mistake
    }
    assert deviations(state) == expected == {
        0: Mistake.WRONG_PATH, 1: Mistake.WRONG_PATH, 2: Mistake.WRONG_PATH,
        4: Mistake.WRONG_PATH, 5: Mistake.WRONG_PATH,
    }  # fmt: skip


def test_the_ground_truth_refuses_a_log_the_teacher_did_not_write() -> None:
    book = teacher_book(TeacherConfig(rate=1.0, mistakes=frozenset({Mistake.WRONG_PATH})))
    book.step("list_files", {"path": "."})
    with pytest.raises(BadTeacher, match=r"step 0 .* called list_files"):
        deviations(fold(book.events))


async def test_the_policy_leases_the_teachers_next_call_for_the_guided_prompt() -> None:
    book = teacher_book(TeacherConfig(rate=1.0, mistakes=frozenset({Mistake.WRONG_PATH})))
    teach(book, guidance_before=set(), steps=2)
    book.guidance("that directory does not exist")
    state = fold(book.events)
    lease = Backends(1).lease(state, 2)
    reply = await lease.backend.complete(render_next_prompt(state).prompt)
    assert (lease.spec, lease.backend.spec.backend) == ("teacher:simulated", "teacher")
    (call,) = reply.tool_calls
    assert (call.name, json.loads(call.arguments_json)) == ("list_files", {"path": "."})


def test_bad_teacher_labels_are_refused_at_the_start() -> None:
    with pytest.raises(BadPolicy, match=r"teacher rate 2\.0"):
        started_event(
            DEDUP, "teacher:simulated", started_by="t", service="t", labels={"teacher_rate": "2"}
        )
    with pytest.raises(BadPolicy, match="'nonsense' is not a valid Mistake"):
        started_event(
            DEDUP,
            "teacher:simulated",
            started_by="t",
            service="t",
            labels={"teacher_mistakes": "nonsense"},
        )
    with pytest.raises(BadPolicy, match="teacher:simulated"):
        started_event(DEDUP, "teacher:gpt", started_by="t", service="t")


def test_a_runs_outcome_names_the_simulated_teacher_and_its_deviations() -> None:
    book = teacher_book(TeacherConfig(rate=1.0, mistakes=frozenset({Mistake.WRONG_PATH})))
    teach(book, guidance_before={2}, steps=3)
    result = outcome(fold(book.events))
    assert result["policy"] == "teacher:simulated"
    assert result["teacher_deviations"] == {"0": "wrong_path", "1": "wrong_path"}
