"""The embedded stack end to end, through the `apollo` command as a user runs it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.cli.samples import SAMPLE_TRAJECTORY
from services.cli.stack.children import answers_ok
from services.cli.stack.home import ApolloHome
from services.cli.stack.processes import KNOWN_SERVICES
from services.cli.stack.prometheus import prometheus_ready
from services.cli.stack.state import StackState
from tests.e2e.apollo_cli import apollo

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture
def home(shared_tmp: Path) -> Iterator[Path]:
    home = shared_tmp / "apollo-home"
    yield home
    apollo(home, "down", check=False)


def sample_trajectory_id() -> str:
    first = json.loads(SAMPLE_TRAJECTORY.read_text().splitlines()[0])
    return first["trajectory_id"]


def test_status_reports_everything_up_then_down(home: Path) -> None:
    apollo(home, "up", "--detach")
    status = json.loads(apollo(home, "status", "--json").stdout)
    assert status["broker"]["ok"] is True
    assert status["broker"]["address"].startswith("127.0.0.1:")
    assert status["postgres"]["ok"] is True
    assert status["services"]["recorder"] == {"ok": True}
    assert "gateway_url" in status
    state = StackState.load(ApolloHome(home).state_file)
    assert state is not None
    ready = {
        name: answers_ok(f"http://127.0.0.1:{p.metrics_port}/readyz")
        for name, p in state.services.items()
    }
    assert ready == dict.fromkeys(KNOWN_SERVICES, True)
    prometheus = status["prometheus"]
    assert prometheus["installed"] is (shutil.which("prometheus") is not None)
    if prometheus["installed"]:
        assert prometheus["ok"] is True
        assert prometheus["url"].startswith("http://127.0.0.1:")

    apollo(home, "down")
    status = json.loads(apollo(home, "status", "--json").stdout)
    assert status["broker"]["ok"] is False
    assert status["postgres"]["ok"] is False
    assert status["prometheus"]["ok"] is False
    if prometheus["installed"]:
        assert not prometheus_ready(prometheus["url"]), "apollo down left Prometheus running"


def test_export_survives_restart_byte_for_byte_and_reimport_adds_nothing(home: Path) -> None:
    apollo(home, "up", "--detach")
    imported = json.loads(apollo(home, "import", str(SAMPLE_TRAJECTORY), "--json").stdout)
    lines = SAMPLE_TRAJECTORY.read_text().splitlines()
    assert imported == {"read": len(lines), "added": len(lines), "skipped": 0}
    trajectory_id = sample_trajectory_id()
    before = apollo(home, "export", trajectory_id).stdout
    assert before.splitlines() == lines

    apollo(home, "down")
    apollo(home, "up", "--detach")
    after = apollo(home, "export", trajectory_id).stdout
    assert after == before

    again = json.loads(apollo(home, "import", str(SAMPLE_TRAJECTORY), "--json").stdout)
    assert again == {"read": len(lines), "added": 0, "skipped": len(lines)}
    assert apollo(home, "export", trajectory_id).stdout == before


def test_two_homes_run_side_by_side(shared_tmp: Path) -> None:
    first, second = shared_tmp / "one", shared_tmp / "two"
    try:
        apollo(first, "up", "--detach")
        apollo(second, "up", "--detach")
        one = json.loads(apollo(first, "status", "--json").stdout)
        two = json.loads(apollo(second, "status", "--json").stdout)
        assert one["broker"]["ok"]
        assert two["broker"]["ok"]
        assert one["broker"]["address"] != two["broker"]["address"]
    finally:
        apollo(first, "down", check=False)
        apollo(second, "down", check=False)


def test_commands_need_a_running_stack(home: Path) -> None:
    result = apollo(home, "export", "no-such-trajectory", check=False)
    assert result.returncode != 0
    assert "apollo up" in result.stderr
