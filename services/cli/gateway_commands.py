"""`apollo users add/revoke`, `apollo guide` and `apollo watch`: accounts and gRPC control."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from apollo.v1 import control_pb2 as cpb
from apollo.v1 import control_pb2_grpc
from apollo.v1 import events_pb2 as pb
from services.cli.connection import NoStackRunning, resolve_connection, running_stack
from services.cli.rendering import describe_event
from services.cli.settings import CliSettings
from services.cli.stack.home import ApolloHome
from services.gateway.control import GUIDANCE_KINDS
from services.gateway.pg_store import PgUserStore
from services.gateway.users import DuplicateUser, InvalidUserName, Role

console = Console(stderr=True)
users_app = typer.Typer(help="Annotator accounts and their API tokens.", no_args_is_help=True)
# The newest events a live view keeps on screen.
WATCH_ROWS = 30


async def add_account(dsn: str, name: str | None, role: Role) -> str:
    """Create an account (named `<role>-<random>` when no name is given); its API token."""
    name = name or f"{role.value}-{uuid.uuid4().hex[:8]}"
    store = await PgUserStore.connect(dsn)
    try:
        await store.migrate()
        _, token = await store.add(name, role)
    finally:
        await store.close()
    return token


@users_app.command("add")
def add_user(
    name: str = typer.Argument(..., help="User name (letters, digits, '.', '_', '-')."),
    role: Role = typer.Option(Role.ANNOTATOR, "--role", help="viewer, annotator or admin."),
) -> None:
    """Create a user; the API token is printed once, on the last line."""
    try:
        dsn = resolve_connection().postgres_dsn
        token = asyncio.run(add_account(dsn, name, role))
    except (NoStackRunning, DuplicateUser, InvalidUserName) as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    console.print(f"created {role.value} {name}; keep this token, it is not shown again:")
    print(token, flush=True)


async def revoke_account(dsn: str, name: str) -> bool:
    """Remove an account, ending its token; whether it existed."""
    store = await PgUserStore.connect(dsn)
    try:
        await store.migrate()
        return await store.revoke(name)
    finally:
        await store.close()


@users_app.command("revoke")
def revoke_user(name: str = typer.Argument(..., help="User name.")) -> None:
    """Remove a user: its token, and sessions made with it, stop working at once."""
    try:
        revoked = asyncio.run(revoke_account(resolve_connection().postgres_dsn, name))
    except NoStackRunning as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    if not revoked:
        console.print(f"[red]no user {name!r}[/red]")
        raise typer.Exit(2)
    console.print(f"revoked {name}; `apollo users add {name}` gives them a new token")


def _target() -> tuple[str, tuple]:
    stack = running_stack(ApolloHome.resolve())
    settings = CliSettings()
    address = settings.gateway_grpc or (stack.gateway_grpc if stack else None)
    token = settings.token
    if not address or not token:
        console.print(
            "[red]set APOLLO_TOKEN (from `apollo users add`) and run a stack with a gateway, "
            "or set APOLLO_GATEWAY_GRPC (host:port of the gateway's gRPC API)[/red]"
        )
        raise typer.Exit(2)
    return address, (("authorization", f"Bearer {token}"),)


def _fail(error: grpc.aio.AioRpcError) -> typer.Exit:
    console.print(f"[red]{error.code().name}: {error.details()}[/red]")
    return typer.Exit(1)


def _steps(value: str) -> list[int]:
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter("steps are comma-separated numbers, e.g. 3,4") from None


async def _guide(trajectory_id: str, text: str, kind: str, steps: list[int]) -> str:
    address, metadata = _target()
    request = cpb.SubmitGuidanceRequest(
        trajectory_id=trajectory_id,
        text=text,
        kind=pb.GuidanceKind.Value(f"GUIDANCE_KIND_{kind.upper()}"),
        flag_steps=steps,
    )
    async with grpc.aio.insecure_channel(address) as channel:
        stub = control_pb2_grpc.ControlServiceStub(channel)
        reply = await stub.SubmitGuidance(request, metadata=metadata, timeout=10)
    return reply.event_id


async def _start(request: cpb.StartTrajectoryRequest) -> str:
    address, metadata = _target()
    async with grpc.aio.insecure_channel(address) as channel:
        stub = control_pb2_grpc.ControlServiceStub(channel)
        reply = await stub.StartTrajectory(request, metadata=metadata, timeout=10)
    return reply.trajectory_id


def start_through_gateway(request: cpb.StartTrajectoryRequest) -> str:
    """Start a trajectory with the gateway's StartTrajectory (admins only); its id."""
    try:
        return asyncio.run(_start(request))
    except grpc.aio.AioRpcError as error:
        raise _fail(error) from error


def guide(
    trajectory_id: str = typer.Argument(..., help="Trajectory id."),
    text: str = typer.Argument("", help="Guidance, delivered as <real_user>…</real_user>."),
    kind: str = typer.Option("advice", "--kind", help=", ".join(GUIDANCE_KINDS)),
    flag_steps: str = typer.Option("", "--flag-steps", help="Steps to flag as wrong, e.g. 3,4."),
) -> None:
    """Queue guidance for a trajectory's next step boundary; prints the event id."""
    if kind not in GUIDANCE_KINDS:
        raise typer.BadParameter(f"--kind is one of {', '.join(GUIDANCE_KINDS)}")
    try:
        print(asyncio.run(_guide(trajectory_id, text, kind, _steps(flag_steps))), flush=True)
    except grpc.aio.AioRpcError as error:
        raise _fail(error) from error


def _table(trajectory_id: str, lines: list[str]) -> Table:
    table = Table(title=f"trajectory {trajectory_id}", expand=True, show_header=False)
    table.add_column("event", overflow="fold")
    for line in lines[-WATCH_ROWS:]:
        table.add_row(line)
    return table


async def _watch(trajectory_id: str) -> None:
    address, metadata = _target()
    lines: list[str] = []
    request = cpb.WatchTrajectoryRequest(trajectory_id=trajectory_id)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = control_pb2_grpc.ControlServiceStub(channel)
        with Live(_table(trajectory_id, lines), console=Console(), auto_refresh=False) as live:
            async for reply in stub.WatchTrajectory(request, metadata=metadata):
                # rich markup in agent output must show as typed, not style the terminal.
                lines.append(describe_event(reply.event).replace("[", r"\["))
                live.update(_table(trajectory_id, lines), refresh=True)
                if reply.event.WhichOneof("body") == "trajectory_ended":
                    return


def watch(trajectory_id: str = typer.Argument(..., help="Trajectory id.")) -> None:
    """Follow a trajectory live in the terminal until it ends (Ctrl-C to stop)."""
    try:
        asyncio.run(_watch(trajectory_id))
    except KeyboardInterrupt:
        return
    except grpc.aio.AioRpcError as error:
        raise _fail(error) from error
