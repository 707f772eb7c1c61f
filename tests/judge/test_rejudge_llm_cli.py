"""`apollo judge run` with llm_judge rules on Postgres, against a loopback judge API, then
`apollo judge agreement` between two judge models."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli.main import app
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import topic_for
from services.judge.ruleset import load_ruleset
from tests.judge.conftest import Call, ScriptedRun
from tests.judge.fake_judge_api import StepMaskingJudges

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

# Judge A masks steps 1 and 2, judge B steps 1 to 3: 3 of 4 agree, chance 1/2, so κ = 0.5.
MASKED_STEPS = {"judge-a": {1, 2}, "judge-b": {1, 2, 3}}
TRAJECTORIES, STEPS = 3, 4


@pytest.fixture
async def api() -> AsyncIterator[StepMaskingJudges]:
    server = await StepMaskingJudges(MASKED_STEPS).start()
    yield server
    await server.stop()


def ruleset_file(tmp_path: Path, model: str) -> Path:
    path = tmp_path / f"{model}.yaml"
    path.write_text(
        "rules:\n  - id: llm\n    kind: llm_judge\n    verdict: mask\n"
        f"    model: anthropic:{model}\n    window: 1\n"
    )
    return path


async def archive_runs(dsn: str) -> None:
    archive = await PgArchive.connect(dsn)
    await archive.migrate()
    for run in range(TRAJECTORIES):
        calls = (Call("run_command", {"command": f"cmd-{n} of run {run}"}) for n in range(STEPS))
        events = ScriptedRun().play(*calls).events
        await archive.append([(topic_for(e).name, e) for e in events])
    await archive.close()


async def apollo(dsn: str, api: StepMaskingJudges, *args: str):
    """`apollo ARGS` in a thread (it runs its own loop), judge models on the loopback API."""
    env = {
        "APOLLO_POSTGRES_DSN": dsn,
        "APOLLO_KAFKA": "",
        "APOLLO_ANTHROPIC_BASE_URL": api.base_url,
        "ANTHROPIC_API_KEY": "test-key",
    }
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def judge_run(dsn: str, api: StepMaskingJudges, rules: Path, *options: str) -> dict:
    result = await apollo(dsn, api, "judge", "run", "--rules", str(rules), "--json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_a_backfill_estimates_stops_at_its_call_budget_and_resumes(
    pg_dsn: str, api: StepMaskingJudges, tmp_path: Path
) -> None:
    await archive_runs(pg_dsn)
    rules = ruleset_file(tmp_path, "judge-a")
    actions = TRAJECTORIES * STEPS

    dry = await apollo(pg_dsn, api, "judge", "run", "--rules", str(rules), "--dry-run")
    assert dry.exit_code == 0, dry.output
    said = " ".join(dry.output.split())
    assert f"{actions} to judge, {actions} model calls, ~" in said
    assert "prompt tokens — dry run, nothing recorded" in said
    assert api.requests == []

    stopped = await apollo(pg_dsn, api, "judge", "run", "--rules", str(rules), "--max-calls", "5")
    assert stopped.exit_code == 0, stopped.output
    assert "budget of 5 model calls reached, rerun" in " ".join(stopped.output.split())
    assert len(api.requests) == 5
    rest = await judge_run(pg_dsn, api, rules)
    again = await judge_run(pg_dsn, api, rules)

    assert (rest["plan"]["already_judged"], rest["plan"]["model_calls"]) == (5, actions - 5)
    assert (rest["run"]["judged"], rest["run"]["recorded"]) == (actions - 5, actions - 5)
    assert len(api.requests) == actions
    assert (again["plan"]["model_calls"], again["run"]["judged"], again["run"]["recorded"]) == (
        0, 0, 0,
    )  # fmt: skip
    assert len(api.requests) == actions


async def test_two_judge_models_agreement_is_reported_as_kappa(
    pg_dsn: str, api: StepMaskingJudges, tmp_path: Path
) -> None:
    await archive_runs(pg_dsn)
    first, second = (ruleset_file(tmp_path, model) for model in MASKED_STEPS)
    for rules in (first, second):
        await judge_run(pg_dsn, api, rules, "--model-concurrency", "3")
    a, b = (load_ruleset(rules).version for rules in (first, second))

    result = await apollo(
        pg_dsn, api, "judge", "agreement", "--ruleset", a, "--against", b, "--json"
    )

    assert result.exit_code == 0, result.output
    overall, llm = json.loads(result.stdout)
    assert (overall["actions"], overall["kappa"]) == (TRAJECTORIES * STEPS, 0.5)
    assert llm["name"] == "llm"
    assert {api.calls_to(model) for model in MASKED_STEPS} == {TRAJECTORIES * STEPS}
