"""`apollo up`, `apollo down`, `apollo status`: the embedded stack's life cycle."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import asyncpg
import typer
from rich.console import Console

from services.cli.connection import running_stack
from services.cli.stack.home import ApolloHome
from services.cli.stack.ports import wait_for_port
from services.cli.stack.processes import health_ok
from services.cli.stack.prometheus import prometheus_binary, prometheus_ready
from services.cli.stack.state import StackState, pid_alive
from services.cli.stack.supervisor import run as run_supervisor

console = Console(stderr=True)
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0


def up(
    detach: bool = typer.Option(False, "--detach", "-d", help="Run in the background."),
) -> None:
    """Start the embedded stack: broker, Postgres, rehydrate from the archive, services."""
    home = ApolloHome.resolve().ensure()
    if running_stack(home) is not None:
        console.print(f"[yellow]A stack is already running in {home.root}[/yellow]")
        return
    if not detach:
        console.print(f"Starting the stack in {home.root}; Ctrl-C stops it.")
        asyncio.run(run_supervisor(home))
        return
    home.state_file.unlink(missing_ok=True)
    with open(home.logs_dir / "supervisor.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli.stack.supervisor"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    with console.status("Starting the stack…"):
        state = _wait_until_started(home, process)
    prometheus = f", Prometheus {state.prometheus_url}" if state.prometheus_url else ""
    console.print(
        f"[green]Stack ready[/green] in {home.root} (broker {state.broker_address}{prometheus})"
    )


def _wait_until_started(home: ApolloHome, process: subprocess.Popen) -> StackState:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        state = StackState.load(home.state_file)
        if state is not None and state.phase == "ready":
            return state
        if (state is not None and state.phase == "failed") or process.poll() is not None:
            error = state.error if state else "see logs/supervisor.log"
            home.state_file.unlink(missing_ok=True)
            console.print(f"[red]The stack failed to start:[/red] {error}")
            raise typer.Exit(1)
        time.sleep(0.2)
    console.print("[red]The stack did not become ready in time[/red]; see the logs directory")
    raise typer.Exit(1)


def down() -> None:
    """Stop everything `apollo up` started in this APOLLO_HOME."""
    home = ApolloHome.resolve()
    state = running_stack(home)
    if state is None:
        console.print("No stack is running.")
        home.state_file.unlink(missing_ok=True)
        return
    os.kill(state.supervisor_pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    with console.status("Stopping the stack…"):
        while pid_alive(state.supervisor_pid):
            if time.monotonic() > deadline:
                console.print("[red]The supervisor did not stop in time[/red]")
                raise typer.Exit(1)
            time.sleep(0.1)
    console.print("Stack stopped.")


def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Is the broker, Postgres and every service up?"""
    report = _status_report(ApolloHome.resolve())
    if as_json:
        print(json.dumps(report))
        return
    for part in ("broker", "postgres"):
        mark = "[green]ok[/green]" if report[part]["ok"] else "[red]down[/red]"
        console.print(f"{part:10} {mark}")
    for name, service in report["services"].items():
        console.print(f"{name:10} {'[green]ok[/green]' if service['ok'] else '[red]down[/red]'}")
    console.print(f"gateway    {report['gateway_url'] or '-'}")
    console.print(f"prometheus {_prometheus_line(report['prometheus'])}")


def _prometheus_line(prometheus: dict) -> str:
    if not prometheus["installed"]:
        return "not installed (the Debian package `prometheus` adds it)"
    if prometheus["url"] is None:
        return "-"
    mark = "[green]ok[/green]" if prometheus["ok"] else "[red]down[/red]"
    return f"{prometheus['url']} {mark}"


def _prometheus_report(url: str | None) -> dict:
    installed = prometheus_binary() is not None
    return {"ok": url is not None and prometheus_ready(url), "url": url, "installed": installed}


def _status_report(home: ApolloHome) -> dict:
    state = running_stack(home)
    if state is None:
        return {
            "broker": {"ok": False, "address": None},
            "postgres": {"ok": False, "dsn": None},
            "services": {},
            "gateway_url": None,
            "prometheus": _prometheus_report(None),
        }
    return {
        "broker": {"ok": _broker_ok(state.broker_address), "address": state.broker_address},
        "postgres": {"ok": _postgres_ok(state.postgres_dsn), "dsn": state.postgres_dsn},
        "services": {
            name: {"ok": pid_alive(proc.pid) and health_ok(proc.metrics_port)}
            for name, proc in state.services.items()
        },
        "gateway_url": state.gateway_url,
        "prometheus": _prometheus_report(state.prometheus_url),
    }


def _broker_ok(address: str) -> bool:
    if not address:
        return False
    host, port = address.rsplit(":", 1)
    try:
        wait_for_port(host, int(port), timeout=1.0)
    except TimeoutError:
        return False
    return True


def _postgres_ok(dsn: str) -> bool:
    async def probe() -> bool:
        connection = await asyncpg.connect(dsn, timeout=2)
        try:
            return await connection.fetchval("SELECT 1") == 1
        finally:
            await connection.close()

    try:
        return bool(dsn) and asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False


def stack_with_gateway() -> StackState:
    """The running stack of this APOLLO_HOME, started (detached) if none runs; exit 1 when it
    has no gateway (the simulated annotator steers through it)."""
    home = ApolloHome.resolve()
    if running_stack(home) is None:
        up(detach=True)
    stack = running_stack(home)
    if stack is None or not stack.gateway_url:
        console.print("[red]The stack has no gateway; is APOLLO_SERVICES narrowing it?[/red]")
        raise typer.Exit(1)
    return stack
