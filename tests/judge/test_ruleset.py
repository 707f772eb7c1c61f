"""Ruleset files: errors that name the place, the content-hash version, the schema, lint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli.main import app
from services.judge.ruleset import RulesetError, parse_ruleset, shipped_ruleset
from services.judge.ruleset_schema import SCHEMA_PATH, schema_text

pytestmark = pytest.mark.timeout(60)

RULES = """\
rules:
  - id: polling-loop
    kind: repeated_call
    verdict: mask
    run_length: 3
  - id: think-twice
    kind: back_to_back
    verdict: mask
    tool: think
"""
# The same rules with comments, other key order, flow style and a description.
REFORMATTED = """\
# a comment
rules:
  - {verdict: mask, kind: repeated_call, id: polling-loop, run_length: 3}
  - tool: think   # the tool
    description: a think right after a think
    id: think-twice
    verdict: mask
    kind: back_to_back
"""


def test_the_version_ignores_comments_key_order_and_descriptions() -> None:
    assert parse_ruleset(REFORMATTED).version == parse_ruleset(RULES).version


def test_the_version_counts_defaults_as_written_out() -> None:
    explicit = RULES.replace("run_length: 3", "run_length: 3\n    skip_tools: [sleep]")
    assert parse_ruleset(explicit).version == parse_ruleset(RULES).version


def test_a_changed_parameter_changes_the_version() -> None:
    changed = parse_ruleset(RULES.replace("run_length: 3", "run_length: 4"))
    assert changed.version != parse_ruleset(RULES).version
    assert changed.version.startswith("sha256:")
    assert len(changed.version) == len("sha256:") + 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            RULES.replace("kind: back_to_back", "kind: back_and_forth"),
            "rules.yaml, line 7, rule 1 ('think-twice'), parameter 'kind': Input tag "
            "'back_and_forth' found using 'kind' does not match",
        ),
        (
            RULES.replace("run_length: 3", "run_length: one"),
            "rules.yaml, line 5, rule 0 ('polling-loop'), parameter 'run_length': "
            "Input should be a valid integer",
        ),
        (
            RULES.replace("run_length: 3", "run_lenght: 3"),
            "rules.yaml, line 5, rule 0 ('polling-loop'), parameter 'run_lenght': "
            "Extra inputs are not permitted",
        ),
        (
            RULES.replace("    tool: think\n", ""),
            "rules.yaml, line 6, rule 1 ('think-twice'), parameter 'tool': Field required",
        ),
        (
            RULES.replace("id: think-twice", "id: polling-loop"),
            "rules.yaml, line 2: Value error, rules 0 and 1 both have the id 'polling-loop'",
        ),
        (
            RULES.replace("    verdict: mask\n    tool", "   verdict: mask\n    tool"),
            "rules.yaml: line 8, column 4: broken YAML: expected <block end>",
        ),
        ("- just a list\n", "rules.yaml, line 1: Input should be a valid dictionary"),
        (
            "rules:\n  - {id: x, kind: missing_resource, verdict: mask, patterns: ['(']}\n",
            "rules.yaml, line 2, rule 0 ('x'), parameter 'patterns': Value error, '(' is not "
            "a regular expression",
        ),
    ],
    ids=[
        "unknown kind",
        "bad parameter",
        "unknown parameter",
        "missing parameter",
        "duplicate id",
        "broken yaml",
        "not a mapping",
        "bad pattern",
    ],
)
def test_a_broken_ruleset_names_the_place(text: str, message: str) -> None:
    with pytest.raises(RulesetError) as raised:
        parse_ruleset(text, "rules.yaml")
    assert str(raised.value).startswith(message), str(raised.value)


def test_the_lookahead_is_the_largest_window() -> None:
    ruleset = shipped_ruleset("default")
    assert ruleset.lookahead == max(rule.window() for rule in ruleset.rules) == 10


def test_the_committed_schema_is_fresh() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "the ruleset schema is stale: run `python -m services.judge.ruleset_schema`"
    )


def test_the_schema_names_every_rule_kind() -> None:
    schema = json.loads(schema_text())
    kinds = {
        definition["properties"]["kind"]["const"]
        for definition in schema["$defs"].values()
        if "kind" in definition.get("properties", {})
    }
    assert {rule.kind for rule in shipped_ruleset("default").rules} <= kinds


def test_lint_prints_the_version_and_rule_count(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    result = CliRunner().invoke(app, ["judge", "lint", str(path)])
    assert result.exit_code == 0, result.output
    assert f"2 rules, version {parse_ruleset(RULES).version}" in result.output


def test_lint_of_a_broken_ruleset_exits_2_with_the_place(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("kind: back_to_back", "kind: nope"))
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "judge", "lint", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"{path}, line 7, rule 1 ('think-twice'), parameter 'kind'" in result.stderr


def test_lint_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["judge", "lint", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2


def test_a_shipped_ruleset_is_named_without_its_path() -> None:
    result = CliRunner().invoke(app, ["judge", "lint", "default"])
    assert result.exit_code == 0, result.output
    assert f"version {shipped_ruleset('default').version}" in result.output


def test_an_unknown_name_is_no_shipped_ruleset() -> None:
    assert CliRunner().invoke(app, ["judge", "lint", "no-such-ruleset"]).exit_code == 2
