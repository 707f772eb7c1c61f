"""The shipped default ruleset on the built-in reference solutions: it masks only what it should."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.judge.rules import Verdict
from services.judge.ruleset import shipped_ruleset
from services.judge.verdicts import judge_trajectory
from services.sandbox import file_tools
from services.sandbox.workspace import Workspace
from services.tasks.packs import TaskCatalog
from services.tasks.tool_args import ARGS_BY_TOOL
from tests.judge.conftest import Call, ScriptedRun

pytestmark = pytest.mark.timeout(60)

FILE_TOOLS = {
    "open_file": file_tools.open_file,
    "create_file": file_tools.create_file,
    "edit_file": file_tools.edit_file,
    "search_dir": file_tools.search_dir,
    "search_file": file_tools.search_file,
    "find_file": file_tools.find_file,
    "list_files": file_tools.list_files,
}


def _reference_calls(task_id: str, workspace: Workspace) -> list[Call]:
    """The pack's reference calls with observations: file tools really run, others succeed."""
    calls = []
    for spec in TaskCatalog().get(task_id).reference():
        arguments = ARGS_BY_TOOL[spec.tool].model_validate(spec.arguments).model_dump()
        if spec.tool in FILE_TOOLS:
            fields = FILE_TOOLS[spec.tool](workspace, **arguments)
        else:
            fields = {"message": f"{spec.tool} done", "output": f"step {len(calls)}"}
        calls.append(Call(spec.tool, spec.arguments, fields=fields))
    return calls


@pytest.mark.parametrize("task_id", TaskCatalog().ids())
def test_default_masks_nothing_of_a_reference(task_id: str, tmp_path: Path) -> None:
    TaskCatalog().get(task_id).instance(0).write_workspace(tmp_path / "ws")
    calls = _reference_calls(task_id, Workspace(tmp_path / "ws"))
    verdicts = judge_trajectory(ScriptedRun().play(*calls).view, shipped_ruleset("default"))
    assert len(verdicts) == len(calls)
    masked = {
        v.step_index: [r.rule_id for r in v.reasons] for v in verdicts if v.verdict is Verdict.MASK
    }
    assert masked == {}


def test_default_ruleset_has_every_rule_the_paper_names() -> None:
    kinds = {rule.kind for rule in shipped_ruleset("default").rules}
    assert kinds == {
        "null_action",
        "failed_action",
        "repeated_call",
        "back_to_back",
        "edit_unread_region",
        "eval_without_change",
        "eval_format_error",
        "missing_resource",
        "kill_defended",
        "correction_rejects",
        "annotator_flagged",
        "propagation",
    }
