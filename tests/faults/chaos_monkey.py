"""Kills the embedded stack's processes with SIGKILL at random moments, from a seeded plan."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.cli.stack.home import ApolloHome
from services.cli.stack.processes import health_ok
from services.cli.stack.state import StackState, pid_alive

SERVICE_KINDS = ("recorder", "sandbox", "policy", "summarizer", "gateway", "judge")
# The broker and Postgres are killed only where the supervisor restarts them.
INFRA_KINDS = ("broker", "postgres")
RECOVERY_TIMEOUT_S = 90.0
POLL_S = 0.1


class NoSuchProcess(LookupError):
    """The stack has no live process of this kind to kill."""


def service_pid(state: StackState, kind: str) -> int:
    return state.services[kind].pid


def postgres_pid(home: ApolloHome) -> int:
    """The postmaster's pid, from the first line of its postmaster.pid."""
    return int((home.postgres_dir / "postmaster.pid").read_text().split()[0])


def broker_pid(state: StackState) -> int:
    """The supervisor's child that runs the Tansu broker."""
    for pid in _children(state.supervisor_pid):
        if Path(f"/proc/{pid}/exe").resolve().name == "tansu":
            return pid
    raise NoSuchProcess("the supervisor has no tansu child")


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return children


@dataclass
class ChaosMonkey:
    """SIGKILLs one process of a random kind, waits until the stack has replaced it, pauses a
    random while, and again, until `kills` are done."""

    home: ApolloHome
    kinds: tuple[str, ...]
    seed: int
    kills: int
    mean_pause_s: float = 2.0
    done: Counter[str] = field(default_factory=Counter)
    # (seconds since the first kill, kind, pid, seconds until it was back)
    log: list[tuple[float, str, int, float]] = field(default_factory=list)

    def plan(self) -> list[str]:
        """The kinds to kill, in order: each kind equally often, shuffled round by round."""
        rng = random.Random(self.seed)
        order: list[str] = []
        while len(order) < self.kills:
            round_ = list(self.kinds)
            rng.shuffle(round_)
            order += round_
        return order[: self.kills]

    async def run(self) -> None:
        """Kill by the plan; the next kill may come before the last victim is healthy again,
        but only once the supervisor has started its replacement. Returns with all healthy."""
        rng = random.Random(self.seed + 1)
        started = time.monotonic()
        for kind in self.plan():
            await asyncio.sleep(rng.uniform(0, 2 * self.mean_pause_s))
            pid = self.pid_of(kind)
            os.kill(pid, signal.SIGKILL)
            killed_at = time.monotonic()
            print(f"chaos: {killed_at - started:.1f} s: killed {kind} (pid {pid})", flush=True)
            restarted = functools.partial(self.replaced, kind, pid)
            await self.wait_until(restarted, f"{kind} restarted")
            self.done[kind] += 1
            self.log.append((killed_at - started, kind, pid, time.monotonic() - killed_at))
        await self.wait_until(lambda: all(self.healthy(kind) for kind in self.kinds), "healthy")

    def state(self) -> StackState:
        state = StackState.load(self.home.state_file)
        if state is None:
            raise NoSuchProcess(f"no stack state in {self.home.root}")
        return state

    def pid_of(self, kind: str) -> int:
        state = self.state()
        if kind == "broker":
            return broker_pid(state)
        if kind == "postgres":
            return postgres_pid(self.home)
        return service_pid(state, kind)

    def replaced(self, kind: str, killed: int) -> bool:
        """A live process other than `killed` runs this kind."""
        try:
            pid = self.pid_of(kind)
        except (NoSuchProcess, FileNotFoundError, ValueError, IndexError):
            return False
        return pid != killed and pid_alive(pid)

    def healthy(self, kind: str) -> bool:
        """The kind's process is alive and, for a service, answers /healthz."""
        if not self.replaced(kind, killed=0):
            return False
        return kind in INFRA_KINDS or health_ok(self.state().services[kind].metrics_port)

    async def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        while not await asyncio.to_thread(condition):
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {RECOVERY_TIMEOUT_S:.0f} s: {what}")
            await asyncio.sleep(POLL_S)
