"""`python -m bench`: run every benchmark; each prints JSON lines on stdout."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    """Run each bench module in its own process, so one's load never skews another."""
    failed = []
    for module in sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name[0] != "_"):
        result = subprocess.run([sys.executable, "-m", f"bench.{module}"], check=False)
        if result.returncode != 0:
            failed.append(module)
    if failed:
        print(f"benchmarks failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
