"""Fixtures of the renderer and policy tests."""

from __future__ import annotations

import pytest
from log_book import LogBook


@pytest.fixture
def book() -> LogBook:
    """A started trajectory's log."""
    log = LogBook()
    log.start()
    return log
