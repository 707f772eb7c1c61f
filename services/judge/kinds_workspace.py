"""Rule kinds about the workspace: files read before editing, missing paths, wasted evals."""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import Field

from services.judge.rules import Case, Patterns, Reason, Rule, RuleKind, first_match
from services.judge.steps import JudgedStep, StepView

EVAL_TOOL = "eval"
# A numbered line as open_file, search_file and edit_file show it: "12: text".
_NUMBERED_LINE = re.compile(r"^(\d+): ", re.MULTILINE)


class EditUnreadRegion(Rule):
    """An `edit_file` on lines the agent was never shown (or wrote) before."""

    kind: Literal["edit_unread_region"] = "edit_unread_region"
    showing_tools: tuple[str, ...] = Field(
        default=("open_file", "search_file", "edit_file"),
        description="Tools whose observations show numbered lines of the file in `path`",
    )


def edit_unread_region(case: Case, rule: EditUnreadRegion) -> Reason | None:
    """Fires on an edit of lines start..end that earlier steps did not show."""
    step = case.step
    if step.tool != "edit_file" or step.arguments is None:
        return None
    path = step.argument("path")
    start, end = _int(step, "start"), _int(step, "end")
    seen, shown_by, shown = case.view.index(_LinesSeenBeforeEdits, rule).before.get(
        case.position, (frozenset(), [], 0)
    )
    looked_at = shown_by[:shown]
    # An insertion (end = start - 1) needs the line it goes after, or the first one.
    needed = set(range(start, end + 1)) or {max(start - 1, 1)}
    unseen = sorted(needed.difference(seen))
    if not unseen:
        return None
    detail = f"edits lines {start}-{end} of {path}; lines {_ranges(unseen)} were not read first"
    return case.reason(rule, detail, (*looked_at, step.index), f"edit_file {path} {start}-{end}")


class _LinesSeenBeforeEdits:
    """Per position of an edit_file, the current lines of its file that the agent saw, and
    the steps that showed them (the first `count` of a list shared by the file's edits)."""

    def __init__(self, rule: EditUnreadRegion) -> None:
        self.rule = rule
        self.before: dict[int, tuple[frozenset[int], list[int], int]] = {}
        # Per file path, the lines seen so far and the steps that showed them.
        self._seen: dict[str, set[int]] = {}
        self._looked_at: dict[str, list[int]] = {}

    def add(self, view: StepView, position: int) -> None:
        earlier = view.steps[position]
        for argument, path in earlier.resources:
            if argument == "path":
                self._add_on(path, position, earlier)

    def _add_on(self, path: str, position: int, earlier: JudgedStep) -> None:
        seen = self._seen.get(path, set())
        looked_at = self._looked_at.setdefault(path, [])
        if earlier.tool == "edit_file":
            self.before[position] = (frozenset(seen), looked_at, len(looked_at))
        if not earlier.succeeded or earlier.observation is None:
            return
        if earlier.tool == "edit_file":
            seen = _after_edit(seen, earlier)
        shows = earlier.tool == "create_file" or earlier.tool in self.rule.showing_tools
        if earlier.tool == "create_file":
            seen = set(range(1, earlier.argument("content").count("\n") + 2))
        elif shows:
            seen |= {int(n) for n in _NUMBERED_LINE.findall(earlier.observation.content)}
        self._seen[path] = seen
        if shows:
            looked_at.append(earlier.index)


def _after_edit(seen: set[int], edit: JudgedStep) -> set[int]:
    # Lines after the replaced range move; the new lines are the agent's own, so known.
    start, end = _int(edit, "start"), _int(edit, "end")
    content = edit.argument("content")
    added = content.count("\n") + 1 if content else 0
    shift = added - (end - start + 1)
    kept = {n for n in seen if n < start} | {n + shift for n in seen if n > end}
    return kept | set(range(start, start + added))


def _int(step: JudgedStep, name: str) -> int:
    value = (step.arguments or {}).get(name)
    return value if isinstance(value, int) else 0


def _ranges(numbers: list[int]) -> str:
    spans: list[list[int]] = []
    for n in numbers:
        if spans and spans[-1][1] == n - 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


class MissingResource(Rule):
    """An action that names a path or session that does not exist."""

    kind: Literal["missing_resource"] = "missing_resource"
    patterns: Patterns = Field(
        default=(
            r"no session '",
            r"is not a (file|directory)",
            r"no such file or directory",
        ),
        description="Regular expressions (case-insensitive) on the failed observation's error",
    )


def missing_resource(case: Case, rule: MissingResource) -> Reason | None:
    """Fires on a failed action whose error says what it named does not exist."""
    observation = case.step.observation
    if observation is None or observation.success:
        return None
    error = observation.error_message or observation.message
    match = first_match(rule.patterns, error)
    if match is None:
        return None
    return case.reason(
        rule, f"names something that does not exist ({match})", (case.step.index,), error
    )


class EvalWithoutChange(Rule):
    """An `eval` with no change to the workspace since the previous `eval`."""

    kind: Literal["eval_without_change"] = "eval_without_change"
    changing_tools: tuple[str, ...] = Field(
        default=("edit_file", "create_file", "run_command", "input_in_session"),
        description="Tools that may change what the grader sees",
    )


def eval_without_change(case: Case, rule: EvalWithoutChange) -> Reason | None:
    """Fires on an eval when no changing tool ran since the last eval."""
    if case.step.tool != EVAL_TOOL:
        return None
    previous = case.view.index(_UnchangedSince, rule).found.get(case.position)
    if previous is None:
        return None
    earlier = case.view.steps[previous]
    detail = f"nothing changed since the eval of step {earlier.index}"
    quote = earlier.observation.message if earlier.observation else "eval"
    return case.reason(rule, detail, (earlier.index, case.step.index), quote)


class _UnchangedSince:
    """Per position of an eval with no changing tool since the eval before it, that eval's."""

    def __init__(self, rule: EvalWithoutChange) -> None:
        self.rule = rule
        self.found: dict[int, int] = {}
        # The latest eval or changing call: whichever came last decides for the next eval.
        self._latest: int | None = None

    def add(self, view: StepView, position: int) -> None:
        step, latest = view.steps[position], self._latest
        if (
            step.tool == EVAL_TOOL
            and latest is not None
            and view.steps[latest].tool not in self.rule.changing_tools
        ):
            self.found[position] = latest
        if step.tool == EVAL_TOOL or step.tool in self.rule.changing_tools:
            self._latest = position


class EvalFormatError(Rule):
    """An `eval` spent on outputs the grader could not read."""

    kind: Literal["eval_format_error"] = "eval_format_error"
    patterns: Patterns = Field(
        default=(r"format", r"malformed", r"could not (parse|read)", r"missing", r"invalid"),
        description="Regular expressions (case-insensitive) on the eval's observation JSON",
    )


def eval_format_error(case: Case, rule: EvalFormatError) -> Reason | None:
    """Fires on an eval whose observation reports a format problem."""
    step = case.step
    if step.tool != EVAL_TOOL or step.observation is None:
        return None
    text = json.dumps(dict(step.observation.fields), sort_keys=True, ensure_ascii=False)
    match = first_match(rule.patterns, f"{text} {step.observation.error_message}")
    if match is None:
        return None
    return case.reason(rule, f"the eval reports a format problem ({match})", (step.index,), text)


KINDS = (
    RuleKind(EditUnreadRegion, edit_unread_region),
    RuleKind(MissingResource, missing_resource),
    RuleKind(EvalWithoutChange, eval_without_change),
    RuleKind(EvalFormatError, eval_format_error),
)
