"""The dashboards against real data: the embedded stack with the real Prometheus runs a guided
trajectory (scripted policy, guidance through the gateway), `apollo judge run`, a dataset
build and an evaluation; then every PromQL expression of every panel of every committed
dashboard, and every recording rule, returns series from Prometheus, and every SQL panel
returns rows from the archive."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from services.cli.gateway_commands import add_account
from services.cli.stack.home import ApolloHome
from services.cli.stack.state import StackState
from services.eventlog.archive import TrajectoryRow
from services.eventlog.bus import KafkaBus
from services.eventlog.pg_archive import PgArchive
from services.gateway.users import Role
from services.tasks.packs import TaskCatalog
from services.tasks.starting import started_event
from tests.deploy.exported_metrics import exported_series, recorded_names, rules
from tests.deploy.grafana_queries import promql_expressions, sql_queries
from tests.e2e.apollo_cli import apollo
from tests.e2e.conftest import embedded_stack
from tests.e2e.prometheus_api import (
    query,
    value,
    wait_for_scrapes_after,
    wait_until_all_return_series,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(240),
    pytest.mark.skipif(
        shutil.which("prometheus") is None,
        reason="prometheus is not installed (Debian package `prometheus`)",
    ),
]

TASK = "data-filtering-dedup"
SLEEP = ("sleep", {"seconds": 6})
# The reference with sleeps between its steps, so the run spans several 5 s scrapes and
# guidance finds it running; the sleep right after a sleep is one the judge masks.
SCRIPT_AFTER = {0: [SLEEP], 1: [SLEEP, ("sleep", {"seconds": 0.5})], 2: [SLEEP], 3: [SLEEP]}
GUIDANCE = ("Check the corpus for near-duplicates first.", "Lowercase before comparing.")
RUN_TIMEOUT_S = 90
SCRAPE_TIMEOUT_S = 45

# Series that honestly stay absent in a short healthy run; an expression that names one may
# return nothing. Everything else must return series.
MAY_BE_ABSENT = {
    "apollo_bus_deadlettered_total": "nothing is dead-lettered in a healthy run",
    "apollo_recorder_deadlettered_total": "nothing is dead-lettered in a healthy run",
    "apollo_policy_backend_errors_total": "the scripted backend never fails",
    "apollo_policy_null_actions_total": "every scripted call is a valid tool call",
    "apollo_summarizer_backend_errors_total": "scripted runs' summaries call no model",
    "apollo_summarizer_model_seconds_bucket": "scripted runs' summaries call no model",
    "apollo_judge_llm_calls_total": "the shipped rulesets have no llm_judge rules",
    "apollo_judge_llm_unjudged_total": "the shipped rulesets have no llm_judge rules",
}


FIRST_OF_THEIR_SERIES = [
    # The live ruleset's one mask: the sleep right after a sleep.
    'apollo:mask_rate_by_rule:ratio15m{rule="sleep-after-sleep"} > 0',
    "apollo:mask_rate_by_ruleset:ratio15m > 0",
    "sum(increase(apollo_domain_datasets_built_total[1d])) > 0",
    'sum(increase(apollo_domain_eval_score_count{variant="e2e"}[1d])) > 0',
]
COLLECTED_GUIDANCE = 'apollo_domain_guidance_total{purpose="collection"}'
COLLECTED_STEPS = 'apollo_domain_steps_total{purpose="collection"}'


def build_and_evaluate(stack: Path, trajectory_id: str, ruleset: str) -> None:
    """A dataset of the guided run under the re-judged ruleset, and the untrained model
    evaluated once (as served by the scripted reference: fast, and it scores)."""
    built = json.loads(
        apollo(
            stack, "dataset", "build", "--ruleset", ruleset, "--trajectory", trajectory_id, "--json"
        ).stdout
    )
    assert built["created"], built
    args = ("--checkpoint", "untrained", "--tasks", TASK, "--policy", "scripted:reference")
    scored = json.loads(apollo(stack, "eval", *args, "--variant", "e2e", "--json").stdout)
    assert scored["scored"] == 1, scored


@pytest.fixture(scope="module")
def full_stack() -> Iterator[Path]:
    """Every service, the gateway included, and Prometheus."""
    with embedded_stack("recorder,sandbox,summarizer,policy,judge,gateway") as home:
        yield home


def guided_script() -> list[tuple[str, dict]]:
    reference = [(step.tool, dict(step.arguments)) for step in TaskCatalog().get(TASK).reference()]
    return [
        call
        for position, step in enumerate(reference)
        for call in [step, *SCRIPT_AFTER.get(position, [])]
    ]


def named_series(expression: str) -> set[str]:
    """The apollo_ series an expression reads, through the recording rules it names."""
    sources = {rule["record"]: rule["expr"] for rule in rules() if "record" in rule}
    series = set(re.findall(r"\bapollo_\w+", expression))
    for name in re.findall(r"\bapollo:[\w:]+", expression):
        series |= named_series(sources[name])
    return series


async def row_when(archive: PgArchive, trajectory_id: str, done, what: str) -> TrajectoryRow:
    """Poll the archive's row of the trajectory until `done(row)`."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        row = await archive.trajectory(trajectory_id)
        if row is not None and done(row):
            return row
        assert time.monotonic() < deadline, f"{what}: not in {RUN_TIMEOUT_S} s ({row})"
        await asyncio.sleep(0.2)


async def judged(archive: PgArchive, trajectory_id: str) -> bool:
    """Every archived action of the trajectory has its verdict."""
    events = [record.event for record in await archive.events(trajectory_id)]
    actions = sum(event.HasField("action_proposed") for event in events)
    return sum(event.HasField("action_judged") for event in events) >= actions


async def guided_run(state: StackState) -> TrajectoryRow:
    """Start the scripted run, steer it through the gateway's API, wait until it ended and the
    live judge judged every action; the archive's final row."""
    archive = await PgArchive.connect(state.postgres_dsn)
    try:
        return await steer_and_wait(state, archive)
    finally:
        await archive.close()


async def steer_and_wait(state: StackState, archive: PgArchive) -> TrajectoryRow:
    started = started_event(
        TaskCatalog().get(TASK),
        "scripted:reference",
        started_by="e2e-dashboards",
        service="e2e-dashboards",
        script=guided_script(),
    )
    trajectory_id = started.trajectory_id
    token = await add_account(state.postgres_dsn, None, Role.ANNOTATOR)
    async with (
        KafkaBus(state.broker_address, client_id="e2e-dashboards") as bus,
        httpx.AsyncClient(
            base_url=f"{state.gateway_url}/api/trajectories/{trajectory_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ) as gateway,
    ):
        await bus.publish(started)
        for number, text in enumerate(GUIDANCE, start=1):
            # Each message while the agent sleeps, a step after the previous one.
            await row_when(archive, trajectory_id, lambda r, n=number: r.steps >= 2 * n, "steps")
            reply = await gateway.post("/guidance", json={"text": text, "kind": "advice"})
            assert reply.status_code == 202, reply.text
        reply = await gateway.post("/attention", json={"seconds": 5})
        assert reply.status_code == 204, reply.text
        reply = await gateway.post("/labels", json={"step_index": 0, "label": "keep"})
        assert reply.status_code == 202, reply.text
    ended = await row_when(archive, trajectory_id, lambda r: r.status != "running", "the end")
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not await judged(archive, trajectory_id):
        assert time.monotonic() < deadline, "the live judge did not judge every action"
        await asyncio.sleep(0.2)
    return ended


async def sql_rows(dsn: str) -> dict[str, int]:
    """How many rows each SQL panel's query returns from the archive."""
    connection = await asyncpg.connect(dsn)
    try:
        return {sql: len(await connection.fetch(sql)) for sql in sql_queries()}
    finally:
        await connection.close()


def test_every_panel_and_rule_returns_data_from_a_guided_run(full_stack: Path) -> None:
    state = StackState.load(ApolloHome(full_stack).state_file)
    assert state is not None
    assert state.prometheus_url, "the stack started without Prometheus"
    url = state.prometheus_url
    # Prometheus watches from before the run: rate() takes a series' first sample as its base.
    wait_for_scrapes_after(url, datetime.now(UTC), SCRAPE_TIMEOUT_S)
    row = asyncio.run(guided_run(state))
    rejudged = json.loads(
        apollo(full_stack, "judge", "run", "--rules", "unfiltered", "--json").stdout
    )
    assert rejudged["run"]["recorded"] >= row.steps, rejudged
    build_and_evaluate(full_stack, row.trajectory_id, rejudged["ruleset_version"])
    done = datetime.now(UTC)

    targets = wait_for_scrapes_after(url, done, SCRAPE_TIMEOUT_S)
    assert {t["labels"]["service"] for t in targets} == set(state.services)
    expressions = sorted({*promql_expressions(), *recorded_names()})
    may_be_empty = {e for e in expressions if named_series(e) & set(MAY_BE_ABSENT)}
    empty = wait_until_all_return_series(url, expressions, may_be_empty, SCRAPE_TIMEOUT_S)
    assert empty <= may_be_empty, {
        expression: {name: query(url, name) for name in named_series(expression)}
        for expression in empty - may_be_empty
    }
    assert set(MAY_BE_ABSENT) <= exported_series(), "the allow-list names unknown series"
    # Each of these first happened once in its series; a series that appeared with it would
    # hide it from rate() and increase().
    unseen = wait_until_all_return_series(url, FIRST_OF_THEIR_SERIES, set(), SCRAPE_TIMEOUT_S)
    assert not unseen, unseen

    # The counters Prometheus scraped give the archive's guidance per 100 steps exactly.
    assert (row.status, row.guidance_count) == ("finished", len(GUIDANCE))
    # The guided run is the only data-collection trajectory of this stack (the other one is
    # the evaluation), and it is counted once from the archive.
    reported = value(url, f"100 * sum({COLLECTED_GUIDANCE}) / sum({COLLECTED_STEPS})")
    assert reported == pytest.approx(100 * row.guidance_count / row.steps)
    [rule] = query(url, "apollo:guidance_per_100_steps:ratio5m")
    assert float(rule["value"][1]) > 0

    rows = asyncio.run(sql_rows(state.postgres_dsn))
    assert rows
    assert all(rows.values()), [sql for sql, count in rows.items() if not count]
