"""The embedded stack as a user runs it (`apollo up` in a private home), for benchmarks."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from services.cli.stack.home import ApolloHome
from services.cli.stack.state import StackState

STACK_TIMEOUT_S = 240


def apollo(home: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run `apollo ARGS` against `home`; its stdout (raises on failure)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("APOLLO_")}
    clean.update(env or {})
    clean["APOLLO_HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=STACK_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"apollo {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


@contextlib.contextmanager
def embedded_stack(env: dict[str, str] | None = None) -> Iterator[StackState]:
    """`apollo up --detach` in a private home (with `env` set); its state; `apollo down` after."""
    with tempfile.TemporaryDirectory(prefix="apollo-bench-") as root:
        home = Path(root)
        apollo(home, "up", "--detach", env=env)
        try:
            state = StackState.load(ApolloHome(home).state_file)
            if state is None or not state.gateway_url:
                raise RuntimeError("the stack started without a gateway")
            yield state
        finally:
            apollo(home, "down", env=env)
