"""`apollo sandbox exec` prints what an agent's tool would: the newest 30,000 characters."""

from __future__ import annotations

import json
import re

import pytest
import typer
from typer.testing import CliRunner

from services.cli.sandbox_commands import sandbox_app
from services.sandbox.observation import MAX_OBSERVATION_CHARS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def exec_json(backend, command: str) -> dict:
    app = typer.Typer()
    app.add_typer(sandbox_app, name="sandbox")
    result = CliRunner().invoke(app, ["sandbox", "exec", "--", command])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_flood_is_capped_to_its_newest_part_with_the_full_digest(backend) -> None:
    shown = exec_json(backend, "yes | head -c 200000000; echo THE-END")

    assert len(json.dumps(shown)) < MAX_OBSERVATION_CHARS + 1000
    assert shown["output"].rstrip().endswith("THE-END")
    assert "characters cut" in shown["output"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", shown["full_output_digest"])


def test_short_output_is_whole_and_has_no_digest(backend) -> None:
    shown = exec_json(backend, "echo hello")

    assert shown["output"] == "hello\n"
    assert "full_output_digest" not in shown
