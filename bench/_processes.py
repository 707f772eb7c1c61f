"""The processes of a running embedded stack as /proc shows them: peak memory and CPU time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from services.cli.stack.home import ApolloHome
from services.cli.stack.state import StackState

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
# The broker is the supervisor's child that runs this binary.
_BROKER_MARK = b"tansu"


@dataclass(frozen=True)
class Sample:
    """One process tree's figures at one moment."""

    peak_rss_mib: float  # VmHWM of the tree's root: the most it ever held
    rss_mib: float  # VmRSS of the root now
    # User + system time of the whole tree (Postgres works in its backends), with what its
    # members reaped from short-lived children (the sandbox's tool runs).
    cpu_s: float


def stack_processes(state: StackState) -> dict[str, int]:
    """The root pid of every service, the broker and Postgres, by name."""
    pids = {name: process.pid for name, process in state.services.items()}
    for child in _children(state.supervisor_pid):
        if _BROKER_MARK in _read(child, "cmdline"):
            pids["broker"] = child
    postmaster = _postmaster(state.supervisor_pid)
    if postmaster:
        pids["postgres"] = postmaster
    return pids


def _postmaster(supervisor_pid: int) -> int:
    """Postgres runs detached from the supervisor: its pid file in the stack's home names it."""
    environment = dict(
        entry.split(b"=", 1)
        for entry in _read(supervisor_pid, "environ").split(b"\0")
        if b"=" in entry
    )
    home = environment.get(b"APOLLO_HOME")
    if home is None:
        return 0
    try:
        first_line = (ApolloHome(Path(home.decode())).postgres_dir / "postmaster.pid").read_text()
    except OSError:
        return 0
    return int(first_line.split()[0])


def sample(pid: int) -> Sample:
    """The figures of the tree rooted at `pid` now (zeros once it is gone)."""
    status = _read(pid, "status").decode()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return Sample(
        peak_rss_mib=_mib(fields.get("VmHWM", "0 kB")),
        rss_mib=_mib(fields.get("VmRSS", "0 kB")),
        cpu_s=sum(_cpu_s(member) for member in _tree(pid)),
    )


def sample_all(pids: dict[str, int]) -> dict[str, Sample]:
    """`sample` of every named process."""
    return {name: sample(pid) for name, pid in pids.items()}


def _tree(pid: int) -> list[int]:
    members, queue = [], [pid]
    while queue:
        member = queue.pop()
        members.append(member)
        queue.extend(_children(member))
    return members


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    found: list[int] = []
    try:
        for task in tasks.iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        return []
    return found


def _cpu_s(pid: int) -> float:
    stat = _read(pid, "stat").decode()
    # The command name may hold spaces: the fields after it start at the last ")".
    after = stat.rsplit(")", 1)[-1].split()
    if len(after) < 15:
        return 0.0
    # utime, stime, cutime, cstime
    return sum(int(ticks) for ticks in after[11:15]) / _TICKS_PER_S


def _mib(value: str) -> float:
    return round(int(value.split()[0]) / 1024, 1)


def _read(pid: int, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""
