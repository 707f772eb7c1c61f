"""Running the `apollo` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def apollo(
    home: Path,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> subprocess.CompletedProcess[str]:
    """Run `apollo ARGS` as a user would, with only this test's APOLLO_ settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("APOLLO_")}
    env = {**base, **(env or {}), "APOLLO_HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"apollo {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result
