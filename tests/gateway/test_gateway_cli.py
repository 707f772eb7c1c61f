"""`apollo users add`, `apollo guide`, `apollo watch` and `apollo run` as a user runs them."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import typer
from typer.testing import CliRunner

from apollo.v1 import events_pb2 as pb
from services.cli.gateway_commands import guide, users_app, watch
from services.cli.run_commands import run
from services.gateway.grpc_server import start_grpc_server
from services.gateway.pg_store import PgUserStore
from services.gateway.users import TOKEN_PREFIX, token_hash

pytestmark = pytest.mark.timeout(60)

app = typer.Typer()
app.add_typer(users_app, name="users")
app.command()(guide)
app.command()(watch)
app.command()(run)


def invoke(args: list[str], env: dict[str, str]):
    # The commands run their own event loop, so they go to a thread of their own.
    return asyncio.to_thread(CliRunner().invoke, app, args, env=env)


@pytest.mark.integration
async def test_users_add_prints_the_token_on_its_last_line(pg_dsn) -> None:
    env = {"APOLLO_KAFKA": "unused:9092", "APOLLO_POSTGRES_DSN": pg_dsn}
    added = await invoke(["users", "add", "ada", "--role", "admin"], env)
    again = await invoke(["users", "add", "ada"], env)
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[-1]
    assert token.startswith(TOKEN_PREFIX)
    connection = await asyncpg.connect(pg_dsn)
    try:
        row = await connection.fetchrow("SELECT role, token_hash FROM users WHERE name = 'ada'")
    finally:
        await connection.close()
    assert (row["role"], row["token_hash"]) == ("admin", token_hash(token))
    assert again.exit_code == 2
    assert "exists already" in again.output


@pytest.mark.integration
async def test_users_revoke_ends_the_token(pg_dsn) -> None:
    env = {"APOLLO_KAFKA": "unused:9092", "APOLLO_POSTGRES_DSN": pg_dsn}
    token = (await invoke(["users", "add", "grace"], env)).stdout.strip().splitlines()[-1]
    store = await PgUserStore.connect(pg_dsn)
    try:
        assert await store.by_token(token) is not None
        revoked = await invoke(["users", "revoke", "grace"], env)
        assert await store.by_token(token) is None
    finally:
        await store.close()
    again = await invoke(["users", "revoke", "grace"], env)
    assert revoked.exit_code == 0, revoked.output
    assert again.exit_code == 2
    assert "no user" in again.output


async def test_guide_then_watch_through_grpc(wired, new_run) -> None:
    run = new_run()
    run.started()
    run.step("run_command", {"command": "echo [bold]hi[/bold]"})
    await wired.record(run.events)
    server, port = await start_grpc_server(wired.gateway, "127.0.0.1", 0)
    env = {"APOLLO_GATEWAY_GRPC": f"127.0.0.1:{port}", "APOLLO_TOKEN": wired.tokens["annotator"]}
    try:
        args = ["guide", run.trajectory_id, "Use the cached data.", "--kind", "knowledge"]
        guided = await invoke([*args, "--flag-steps", "0,1"], env)
        assert guided.exit_code == 0, guided.output
        [event] = wired.published()
        assert guided.stdout.strip() == event.event_id
        assert event.guidance_submitted.kind == pb.GUIDANCE_KIND_KNOWLEDGE
        assert list(event.guidance_submitted.flagged_step_indices) == [0, 1]
        await wired.record([event, run.ended()])
        watched = await invoke(["watch", run.trajectory_id], {**env, "COLUMNS": "200"})
        assert watched.exit_code == 0, watched.output
        assert "Use the cached data." in watched.stdout
        assert "echo [bold]hi[/bold]" in watched.stdout  # agent text is not rich markup
        refused = await invoke(["guide", "nope", "hi"], env)
        assert refused.exit_code == 1
        assert "NOT_FOUND" in refused.output
    finally:
        await server.stop(grace=None)


async def test_run_with_a_token_starts_through_the_gateway(wired) -> None:
    server, port = await start_grpc_server(wired.gateway, "127.0.0.1", 0)
    grpc_env = {"APOLLO_GATEWAY_GRPC": f"127.0.0.1:{port}"}
    args = ["run", "--task", "data-filtering-dedup", "--policy", "scripted:reference"]
    try:
        started = await invoke(
            [*args, "--max-steps", "7", "--seed", "1003", "--json"],
            {**grpc_env, "APOLLO_TOKEN": wired.tokens["admin"]},
        )
        refused = await invoke(args, {**grpc_env, "APOLLO_TOKEN": wired.tokens["annotator"]})
    finally:
        await server.stop(grace=None)
    assert started.exit_code == 0, started.output
    [event] = wired.published()
    assert started.stdout.strip() == f'{{"trajectory_id": "{event.trajectory_id}"}}'
    body = event.trajectory_started
    assert body.task_seed == 1003
    assert (body.task_id, body.started_by, body.budgets.max_steps) == (
        "data-filtering-dedup",
        "admin-1",
        7,
    )
    assert refused.exit_code == 1
    assert "PERMISSION_DENIED" in refused.output
