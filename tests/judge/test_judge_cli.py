"""`apollo judge run`, `rulesets`, `diff` and `show` against a real archive, in process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli.main import app
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import topic_for
from services.judge.ruleset import SHIPPED_RULESETS, load_ruleset
from tests.judge.conftest import Call, ScriptedRun

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

LS = Call("list_files", {"path": "."}, fields={"content": "a.py"})
SLEEP = Call("sleep", {"seconds": 5})
BAD_RULESETS = {
    "unknown-kind": ("rules:\n  - id: x\n    kind: no_such_kind\n    verdict: mask\n", "line 3"),
    "bad-parameter": (
        "rules:\n  - id: loop\n    kind: repeated_call\n    verdict: mask\n    run_length: 1\n",
        "parameter 'run_length'",
    ),
    "broken-yaml": ("rules:\n  - id: [unclosed\n", "broken YAML"),
}


async def judge(dsn: str, *args: str):
    """Run `apollo judge ARGS` in a thread (it runs its own event loop) against `dsn`."""
    runner = CliRunner()
    env = {"APOLLO_POSTGRES_DSN": dsn, "APOLLO_KAFKA": ""}
    return await asyncio.to_thread(runner.invoke, app, ["judge", *args], env=env)


@pytest.fixture
async def archive(pg_dsn: str):
    store = await PgArchive.connect(pg_dsn)
    await store.migrate()
    yield store
    await store.close()


@pytest.mark.parametrize("name", sorted(BAD_RULESETS))
async def test_an_unusable_ruleset_exits_2_naming_the_place_and_records_nothing(
    name: str, archive: PgArchive, pg_dsn: str, tmp_path: Path
) -> None:
    run = ScriptedRun().play(LS)
    await archive.append([(topic_for(e).name, e) for e in run.events])
    text, place = BAD_RULESETS[name]
    (tmp_path / "bad.yaml").write_text(text)

    result = await judge(pg_dsn, "run", "--rules", str(tmp_path / "bad.yaml"))

    assert result.exit_code == 2
    assert "bad.yaml" in result.output
    assert place in result.output
    assert await archive.count() == len(run.events)
    assert await archive.verdict_versions() == []


async def test_rulesets_diff_and_show_report_two_versions(
    archive: PgArchive, pg_dsn: str, tmp_path: Path
) -> None:
    runs = [ScriptedRun().play(LS, SLEEP, SLEEP) for _ in range(3)]
    for run in runs:
        await archive.append([(topic_for(e).name, e) for e in run.events])
    default = SHIPPED_RULESETS / "default.yaml"
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(default.read_text().replace("tool: sleep", "tool: never-called"))
    old, new = load_ruleset(default).version, load_ruleset(lenient).version
    dry = await judge(pg_dsn, "run", "--rules", str(default), "--dry-run", "--json")
    assert json.loads(dry.stdout)["plan"]["actions"] == 9
    assert await archive.verdict_versions() == []
    for rules in (default, lenient):
        assert (await judge(pg_dsn, "run", "--rules", str(rules))).exit_code == 0

    listed = json.loads((await judge(pg_dsn, "rulesets", "--json")).stdout)
    changes = json.loads((await judge(pg_dsn, "diff", old[:15], new, "--json")).stdout)
    shown = json.loads((await judge(pg_dsn, "show", runs[0].trajectory_id, "--json")).stdout)
    shown_old = await judge(pg_dsn, "show", runs[0].trajectory_id, "--ruleset", old, "--json")

    assert [(v["ruleset_version"], v["actions"], v["masked"], v["recorded"]) for v in listed] == [
        (new, 9, 0, True),
        (old, 9, 3, True),
    ]
    assert listed[1]["rules"]["sleep-after-sleep"]["mask_rate"] == round(3 / 9, 6)
    assert (changes["compared_actions"], changes["masked_a"], changes["masked_b"]) == (9, 3, 0)
    [rule] = changes["rules"]
    assert (rule["rule_id"], rule["masked_under_a_only"], rule["masked_under_b_only"]) == (
        "sleep-after-sleep", 3, 0,
    )  # fmt: skip
    assert {e["tool"] for e in rule["examples_a_only"]} == {"sleep"}
    assert shown["ruleset_version"] == new
    assert [(s["step"], s["tool"], s["verdict"]) for s in shown["steps"]] == [
        (0, "list_files", "keep"), (1, "sleep", "keep"), (2, "sleep", "keep"),
    ]  # fmt: skip
    old_steps = json.loads(shown_old.stdout)["steps"]
    assert [r["rule_id"] for r in old_steps[2]["reasons"]] == ["sleep-after-sleep"]
    assert (await judge(pg_dsn, "diff", "sha256:nothing", new)).exit_code == 2
