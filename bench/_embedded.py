"""Running a Postgres benchmark on its own embedded server and printing its JSON line."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from services.cli.stack.postgres import EmbeddedPostgres


def measure_on_embedded_postgres(measure: Callable[[str], Awaitable[dict]]) -> None:
    """Start a Postgres in a temporary directory, run `measure(dsn)`, print its result line."""
    with tempfile.TemporaryDirectory(prefix="apollo-bench-") as scratch:
        server = EmbeddedPostgres(Path(scratch) / "data").start()
        try:
            result = asyncio.run(measure(server.dsn))
        finally:
            server.stop()
    sys.stdout.write(json.dumps(result) + "\n")
