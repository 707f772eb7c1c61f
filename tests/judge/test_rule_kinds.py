"""Each rule kind on small hand-built trajectories: exactly which steps fire, with what evidence."""

from __future__ import annotations

import pytest

from apollo.v1 import events_pb2 as pb
from services.judge.kinds_actions import BackToBack, FailedAction, NullAction, RepeatedCall
from services.judge.kinds_guidance import AnnotatorFlagged, CorrectionRejects, KillDefended
from services.judge.kinds_workspace import (
    EditUnreadRegion,
    EvalFormatError,
    EvalWithoutChange,
    MissingResource,
)
from services.judge.propagation import Propagation
from services.judge.rules import Rule
from tests.judge.conftest import Call, NullAnswer, Say, fired

pytestmark = pytest.mark.timeout(30)

MASK = "mask"
SLEEP = Call("sleep", {"seconds": 5}, fields={"message": "slept 5 s (done)"})
THINK = Call("think", {"thought": "try dedup by hash"})
LS = Call("list_files", {"path": "."}, fields={"content": "a.py"})
POLL = Call("get_session_output", {"session": "s1"}, fields={"output": "epoch 1"})
EVAL = Call("eval", {}, fields={"message": "score 40.0 / 100; 2 evaluations left", "score": 40.0})
RUN = Call("run_command", {"command": "python3 a.py"}, fields={"output": "ok"})


def _open(path: str, first: int, last: int) -> Call:
    content = "\n".join(f"{n}: line {n}" for n in range(first, last + 1))
    return Call("open_file", {"path": path, "line": first}, fields={"content": content})


def _edit(path: str, start: int, end: int, content: str = "x = 1") -> Call:
    return Call("edit_file", {"path": path, "start": start, "end": end, "content": content})


CASES: list[tuple[str, Rule, tuple, dict]] = [
    (
        "null action",
        NullAction(id="null", verdict=MASK),
        (LS, NullAnswer("no_tool_call", "answer had no <tool_call>")),
        {1: [("null", (1,), "no_tool_call: answer had no <tool_call>")]},
    ),
    (
        "failed action",
        FailedAction(id="failed", verdict=MASK),
        (LS, Call("open_file", {"path": "b.py"}, success=False, error="'b.py' is not a file")),
        {1: [("failed", (1,), "'b.py' is not a file")]},
    ),
    (
        "sleep after sleep, not sleep after anything else",
        BackToBack(id="sleep-twice", tool="sleep", verdict=MASK),
        (SLEEP, LS, SLEEP, SLEEP),
        {3: [("sleep-twice", (2, 3), 'sleep {"seconds": 5}')]},
    ),
    (
        "think twice in a row",
        BackToBack(id="think-twice", tool="think", verdict=MASK),
        (THINK, THINK, LS, THINK),
        {1: [("think-twice", (0, 1), 'think {"thought": "try dedup by hash"}')]},
    ),
    (
        "a polling loop from the third identical poll, across sleeps",
        RepeatedCall(id="poll", run_length=3, verdict=MASK),
        (POLL, SLEEP, POLL, SLEEP, POLL, POLL),
        {
            4: [("poll", (0, 2, 4), 'get_session_output {"session": "s1"}')],
            5: [("poll", (2, 4, 5), 'get_session_output {"session": "s1"}')],
        },
    ),
    (
        "a changed observation breaks the loop",
        RepeatedCall(id="poll", run_length=2, verdict=MASK),
        (
            POLL,
            Call("get_session_output", {"session": "s1"}, fields={"output": "epoch 2"}),
            Call("get_session_output", {"session": "s1"}, fields={"output": "epoch 2"}),
        ),
        {2: [("poll", (1, 2), 'get_session_output {"session": "s1"}')]},
    ),
    (
        "an edit of lines not shown; shown, written and shifted lines are fine",
        EditUnreadRegion(id="unread", verdict=MASK),
        (
            _open("a.py", 1, 10),
            _edit("a.py", 2, 3),
            _edit("a.py", 8, 12),
            Call("create_file", {"path": "b.py", "content": "a\nb\nc"}),
            _edit("b.py", 3, 3),
            _edit("a.py", 1, 0, "# header\n# more"),
            _edit("a.py", 11, 11),
        ),
        {
            2: [("unread", (0, 1, 2), "edit_file a.py 8-12")],
            6: [("unread", (0, 1, 2, 5, 6), "edit_file a.py 11-11")],
        },
    ),
    (
        "a path or session that does not exist",
        MissingResource(id="missing", verdict=MASK),
        (
            Call("check_session_idle", {"session": "s9"}, False, error="no session 's9' (open s1)"),
            Call("run_command", {"command": "false"}, False, error="exit code 1"),
        ),
        {0: [("missing", (0,), "no session 's9' (open s1)")]},
    ),
    (
        "an eval with nothing changed since the last one",
        EvalWithoutChange(id="same-eval", verdict=MASK),
        (EVAL, LS, EVAL, RUN, EVAL),
        {2: [("same-eval", (0, 2), "score 40.0 / 100; 2 evaluations left")]},
    ),
    (
        "an eval spent on a format error",
        EvalFormatError(id="format", verdict=MASK),
        (
            Call("eval", {}, fields={"message": "score 0.0 / 100", "details": {"error": "bad"}}),
            Call("eval", {}, fields={"message": "score 0.0 / 100", "reason": "malformed JSON"}),
        ),
        {
            1: [
                (
                    "format",
                    (1,),
                    '{"error_message": "", "message": "score 0.0 / 100", '
                    '"reason": "malformed JSON", "success": true}',
                )
            ]
        },
    ),
    (
        "killing a job that a later message defends",
        KillDefended(id="kill", within_steps=2, verdict=MASK),
        (
            Call("kill_session_processes", {"session": "s2"}),
            LS,
            Say("Don't kill the training, it was still running!"),
            LS,
            Call("close_session", {"session": "s3"}),
            LS,
            LS,
            LS,
            Say("why did you close s3?"),
        ),
        {0: [("kill", (0, 1), "Don't kill the training, it was still running!")]},
    ),
    (
        "a correction right after an action, or naming its file",
        CorrectionRejects(id="corrected", within_steps=2, verdict=MASK),
        (
            _open("a.py", 1, 3),
            LS,
            Say("no: a.py is the wrong file", kind=pb.GUIDANCE_KIND_CORRECTION),
            RUN,
            Say("good progress", kind=pb.GUIDANCE_KIND_ADVICE),
        ),
        {
            0: [("corrected", (0, 1), "no: a.py is the wrong file")],
            1: [("corrected", (1,), "no: a.py is the wrong file")],
        },
    ),
    (
        "steps an annotator flagged",
        AnnotatorFlagged(id="flagged", within_steps=3, verdict=MASK),
        (LS, RUN, Say("", flags=(0, 1)), LS, LS, LS, LS, Say("late", flags=(1,))),
        {
            0: [("flagged", (0, 1), "(flag without a message)")],
            1: [("flagged", (1,), "(flag without a message)")],
        },
    ),
]


@pytest.mark.parametrize(("name", "rule", "script", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rule_kind(name: str, rule: Rule, script: tuple, expected: dict) -> None:
    assert fired(script, rule) == expected


def test_propagation_masks_what_builds_on_a_masked_action_until_a_clean_success() -> None:
    failed_run = Call("run_command", {"command": "python3 t.py", "session": "s1"}, False, error="x")
    output = Call("get_session_output", {"session": "s1"}, fields={"output": "Traceback"})
    fixed_run = Call("run_command", {"command": "python3 t.py", "session": "s1"})
    script = (failed_run, output, LS, output, fixed_run, output)
    reasons = fired(
        script,
        FailedAction(id="failed", verdict=MASK),
        Propagation(id="depends", verdict=MASK),
    )
    assert reasons == {
        0: [("failed", (0,), "x")],
        1: [("depends", (0, 1), "run_command s1")],
        3: [("depends", (0, 3), "run_command s1")],
    }
