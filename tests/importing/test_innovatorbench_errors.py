"""A node file that cannot be imported: the error names the place, and `apollo import` exits 2."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from services.cli.innovatorbench import NodeFileError, read_node_events
from services.cli.main import app
from tests.importing.innovatorbench_files import (
    break_tool_call_repr,
    edited_node,
    truncated_node,
)

pytestmark = pytest.mark.timeout(60)


def without(index: int, key: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document["messages"][index].pop(key)


def answering(index: int, call_id: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document["messages"][index]["tool_result"].update(call_id=call_id)


def observation_text(index: int, text: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document["messages"][index]["tool_result"].update(content=text)


BROKEN = [
    pytest.param(
        break_tool_call_repr,
        "messages[4].tool_call: not a Python literal",
        id="broken-tool-call-repr",
    ),
    pytest.param(without(5, "tool_result"), "messages[5].tool_result: missing", id="no-result"),
    pytest.param(
        answering(7, "tooluse_other"),
        "messages[7].tool_result.call_id: answers call 'tooluse_other'",
        id="wrong-call",
    ),
    pytest.param(
        observation_text(9, '{"success": tru'),
        "messages[9].tool_result.content: the observation is not JSON",
        id="bad-observation",
    ),
    pytest.param(
        lambda document: document["messages"].pop(1),
        "messages[1]: expected the user message",
        id="no-task",
    ),
    pytest.param(
        lambda document: document.update(node_type="summary"),
        "node_type: 'summary' nodes hold no agent step",
        id="summary-node",
    ),
    pytest.param(
        lambda document: document["response"]["usage"].update(input_tokens="many"),
        "response.usage.input_tokens: expected a int, found a str",
        id="bad-usage",
    ),
]


@pytest.mark.parametrize(("edit", "place"), BROKEN)
def test_a_broken_part_is_named(tmp_path: Path, edit, place: str) -> None:
    with pytest.raises(NodeFileError) as raised:
        read_node_events(edited_node(tmp_path, edit))
    assert str(raised.value).startswith(place)


def test_a_truncated_file_names_its_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(NodeFileError, match=r"^line \d+, column \d+: not valid JSON"):
        read_node_events(truncated_node(tmp_path))


@pytest.mark.parametrize(
    ("write", "place"),
    [
        pytest.param(truncated_node, r"line \d+, column \d+", id="truncated"),
        pytest.param(
            lambda directory: edited_node(directory, break_tool_call_repr),
            r"messages\[4\]\.tool_call",
            id="broken-repr",
        ),
    ],
)
def test_apollo_import_exits_2_before_connecting(tmp_path: Path, monkeypatch, write, place) -> None:
    # No stack and no addresses: a bad file must be refused before anything is reached.
    monkeypatch.setenv("APOLLO_HOME", str(tmp_path / "no-stack"))
    monkeypatch.delenv("APOLLO_KAFKA", raising=False)
    monkeypatch.delenv("APOLLO_POSTGRES_DSN", raising=False)
    path = write(tmp_path)
    result = CliRunner().invoke(app, ["import", "--format", "innovatorbench", str(path)])
    assert result.exit_code == 2
    assert str(path) in result.output
    assert re.search(place, result.output)
