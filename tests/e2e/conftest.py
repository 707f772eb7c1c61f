"""Fixtures of the end-to-end tests: an embedded stack run through the `apollo` command."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.apollo_cli import apollo

AGENT_SERVICES = "recorder,sandbox,policy,summarizer"


@contextlib.contextmanager
def embedded_stack(services: str, env: dict[str, str] | None = None) -> Iterator[Path]:
    """A detached stack of `services` in a fresh home (yielded), brought down afterwards;
    its services see `env` besides."""
    with tempfile.TemporaryDirectory(prefix="apollo-e2e-") as path:
        home = Path(path) / "home"
        apollo(home, "up", "--detach", env={**(env or {}), "APOLLO_SERVICES": services})
        try:
            yield home
        finally:
            apollo(home, "down", check=False)


@pytest.fixture(scope="module")
def stack() -> Iterator[Path]:
    """One stack for every test of a module, without the gateway (runs need no browser)."""
    with embedded_stack(AGENT_SERVICES) as home:
        yield home
