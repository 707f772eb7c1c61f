"""The `apollo` command starts without the model stack: only the commands that tokenize, train
or run the local model load torch and transformers, and the tests and users call it often."""

from __future__ import annotations

import subprocess
import sys

HEAVY_MODULES = ("torch", "transformers", "llguidance")


def test_the_cli_and_the_services_start_without_torch_or_transformers() -> None:
    probe = (
        "import sys, services.cli.main, services.cli.stack.supervisor\n"
        "for name in ('recorder', 'sandbox', 'summarizer', 'policy', 'judge', 'gateway'):\n"
        "    __import__(f'services.{name}.app')\n"
        f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    assert loaded == "", f"importing the CLI or a service loaded {loaded}"
