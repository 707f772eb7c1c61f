"""The shared InnovatorBench node file, and edited copies of it written for one test."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The reference data sits beside the repository, never inside it.
NODE_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "formats" / "innovatorbench"
NODE_FILE = next(NODE_DIR.glob("react_*.json"))
NODE_ID = "0af1bb00-c19c-4fde-8152-9294d4ea95c1"
# The tool calls of the node's messages, by tool (the node's README counts them so).
MESSAGE_CALLS = {
    "run_command": 21,
    "get_session_output": 13,
    "sleep": 11,
    "open_file": 6,
    "check_session_idle": 5,
    "edit_file": 5,
    "file_scroll_down": 2,
    "eval": 2,
    "think": 2,
    "create_file": 1,
}
# The node's own step: its response's call.
RESPONSE_TOOL = "get_session_output"
SUMMARIZED_ACTIONS = 91


def node_document() -> dict[str, Any]:
    """The shared node, parsed."""
    return json.loads(NODE_FILE.read_text(encoding="utf-8"))


def edited_node(directory: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the node with `edit` applied to its document, written under `directory`."""
    document = node_document()
    edit(document)
    path = directory / "node.json"
    path.write_text(json.dumps(document, indent=4, ensure_ascii=False), encoding="utf-8")
    return path


def truncated_node(directory: Path) -> Path:
    """The node cut off at half its length, as an interrupted copy leaves it."""
    text = NODE_FILE.read_text(encoding="utf-8")
    path = directory / "truncated.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    return path


def break_tool_call_repr(document: dict[str, Any]) -> None:
    """messages[4]'s tool call as a Python repr missing its closing braces."""
    document["messages"][4]["tool_call"] = repr(document["messages"][4]["tool_call"])[:-2]


def tool_calls_as_reprs(document: dict[str, Any]) -> None:
    """Every tool call and tool result as the Python repr string ResearchGym also writes."""
    for message in document["messages"]:
        for key in ("tool_call", "tool_result"):
            if message[key] is not None:
                message[key] = repr(message[key])
