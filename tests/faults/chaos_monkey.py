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

from services.cli.stack.home import ApolloHome
from services.cli.stack.processes import health_ok
from services.cli.stack.restarts import MAX_RESTARTS, WINDOW_S
from services.cli.stack.state import StackState, pid_alive

SERVICE_KINDS = ("recorder", "sandbox", "policy", "summarizer", "gateway", "judge")
# The broker and Postgres are killed only where the supervisor restarts them.
INFRA_KINDS = ("broker", "postgres")
RECOVERY_TIMEOUT_S = 90.0
# The supervisor's restart budget is counted from its restart, a moment after the kill, and
# a broker or Postgres restart can spend a service's restart too: keep one spare.
BUDGET_MARGIN_S = 5.0
KILLS_PER_WINDOW = MAX_RESTARTS - 1
POLL_S = 0.1


class NoSuchProcess(LookupError):
    """The stack has no live process of this kind to kill."""


@dataclass
class ChaosMonkey:
    """SIGKILLs one process of a random kind, waits until the stack has replaced it, pauses a
    random while, and again, until `kills` are done. A kind is killed no more often than the
    supervisor's restart budget allows, so a long run waits where it would use it up."""

    home: ApolloHome
    kinds: tuple[str, ...]
    seed: int
    kills: int
    mean_pause_s: float = 2.0
    done: Counter[str] = field(default_factory=Counter)
    # (seconds since the first kill, kind, pid, seconds until it was back)
    log: list[tuple[float, str, int, float]] = field(default_factory=list)
    started: float = 0.0

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
        started = self.started = time.monotonic()
        for kind in self.plan():
            await asyncio.sleep(rng.uniform(0, 2 * self.mean_pause_s) + self.budget_wait(kind))
            pid = await self.kill_live(kind)
            killed_at = time.monotonic()
            print(f"chaos: {killed_at - started:.1f} s: killed {kind} (pid {pid})", flush=True)
            restarted = functools.partial(self.replaced, kind, pid)
            await self.wait_until(restarted, f"{kind} restarted")
            self.done[kind] += 1
            self.log.append((killed_at - started, kind, pid, time.monotonic() - killed_at))
        await self.wait_until(lambda: all(self.healthy(kind) for kind in self.kinds), "healthy")

    async def kill_live(self, kind: str) -> int:
        """SIGKILL the process that runs `kind` now; return its pid. One that is gone before the
        signal (a service the supervisor stopped to restart the broker or Postgres with, and
        has not started again yet) is waited for: its replacement is killed."""
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        while True:
            await self.wait_until(functools.partial(self.replaced, kind, 0), f"{kind} running")
            pid = self.pid_of(kind)
            try:
                os.kill(pid, signal.SIGKILL)
                return pid
            except ProcessLookupError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no live {kind} to kill") from None
                await asyncio.sleep(POLL_S)

    def budget_wait(self, kind: str) -> float:
        """Seconds until killing `kind` again stays within the supervisor's restart budget."""
        now = time.monotonic()
        window = WINDOW_S + BUDGET_MARGIN_S
        recent = [
            self.started + at
            for at, killed, _, _ in self.log
            if killed == kind and now - (self.started + at) < window
        ]
        if len(recent) < KILLS_PER_WINDOW:
            return 0.0
        return recent[-KILLS_PER_WINDOW] + window - now

    def state(self) -> StackState:
        state = StackState.load(self.home.state_file)
        if state is None:
            raise NoSuchProcess(f"no stack state in {self.home.root}")
        return state

    def pid_of(self, kind: str) -> int:
        state = self.state()
        pids = {"broker": state.broker_pid, "postgres": state.postgres_pid}
        pid = pids[kind] if kind in pids else state.services[kind].pid
        if pid <= 0:  # os.kill(0, …) would signal this very process group
            raise NoSuchProcess(f"no {kind} pid in the stack's state")
        return pid

    def replaced(self, kind: str, killed: int) -> bool:
        """A live process other than `killed` runs this kind."""
        try:
            pid = self.pid_of(kind)
        except NoSuchProcess:
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
