"""Idle cost: CPU the embedded stack spends over 60 s with no trajectory running.

The stack runs as a user runs it (`apollo up` in a private APOLLO_HOME). Once it has
settled, the CPU time of every process under its supervisor (the supervisor itself,
Tansu, Postgres and its backends, each service) is read from the kernel at the start
and the end of the window, counting what each process reaped from short-lived children
too. Prints one JSON line per process kind with its share of one core, then the total
(target ≤ 5%); Prometheus, which only the embedded stack runs beside the services, is
reported on its own line and left out of the total.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from urllib.parse import parse_qs, urlparse

import psutil

from bench.guidance_latency import embedded_stack
from services.cli.stack.state import StackState
from services.eventlog.kafka.fetch_wait import FetchPacingSettings

WINDOW_S = 60.0
# Long enough for startup work to end and every consumer to fall back to its dormant pace.
SETTLE_S = FetchPacingSettings().dormant_after_s + 15.0
TARGET_PERCENT = 5.0
PROMETHEUS = "prometheus"
# Processes the stack starts besides its services, known by their command line.
PROGRAMS = ("tansu", PROMETHEUS)


def stack_processes(state: StackState) -> dict[int, str]:
    """Every live process of the stack, by pid, named by what it is."""
    services = {proc.pid: name for name, proc in state.services.items()}
    supervisor = psutil.Process(state.supervisor_pid)
    named = {supervisor.pid: "supervisor"}
    for child in supervisor.children(recursive=True):
        try:
            named[child.pid] = _kind(child, services)
        except psutil.NoSuchProcess:
            continue
    for process in postgres_processes(state.postgres_dsn):
        named[process.pid] = "postgres"
    return named


def postgres_processes(dsn: str) -> list[psutil.Process]:
    """The stack's Postgres server and its backends (pg_ctl detaches them from the supervisor)."""
    socket_dir = parse_qs(urlparse(dsn).query)["host"][0]
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and socket_dir in (process.info["cmdline"] or ()):
            return [process, *process.children(recursive=True)]
    return []


def _kind(process: psutil.Process, services: dict[int, str]) -> str:
    # A service's own children (a sandbox's tools) count as the service.
    for candidate in (process, *process.parents()):
        if candidate.pid in services:
            return services[candidate.pid]
    command = " ".join(process.cmdline())
    for program in PROGRAMS:
        if program in command:
            return program
    return process.name()


def cpu_seconds(pid: int) -> float | None:
    """User + system time of the process and of the children it has reaped."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return None
    return times.user + times.system + times.children_user + times.children_system


def measure(state: StackState) -> tuple[dict[str, float], float]:
    """CPU seconds per process kind over the window, and the window's length."""
    named = stack_processes(state)
    before = {pid: cpu_seconds(pid) for pid in named}
    started = time.monotonic()
    time.sleep(WINDOW_S)
    elapsed = time.monotonic() - started
    spent: dict[str, float] = defaultdict(float)
    for pid, kind in named.items():
        start, end = before[pid], cpu_seconds(pid)
        if start is not None and end is not None:
            spent[kind] += end - start
    return spent, elapsed


def report(spent: dict[str, float], elapsed: float) -> None:
    """One line per process kind, Prometheus apart, then the stack's total against the target."""
    percent = {kind: 100 * seconds / elapsed for kind, seconds in spent.items()}
    for kind in sorted(percent):
        line = {"bench": "idle_cpu", "metric": kind, "value": round(percent[kind], 2)}
        print(json.dumps({**line, "unit": "% of a core"}), flush=True)
    total = sum(value for kind, value in percent.items() if kind != PROMETHEUS)
    line = {"bench": "idle_cpu", "metric": "total_without_prometheus", "value": round(total, 2)}
    print(json.dumps({**line, "unit": "% of a core", "target": TARGET_PERCENT}), flush=True)


def main() -> None:
    """Start the stack, let it settle, measure the window, stop the stack."""
    with embedded_stack() as state:
        time.sleep(SETTLE_S)
        report(*measure(state))


if __name__ == "__main__":
    main()
