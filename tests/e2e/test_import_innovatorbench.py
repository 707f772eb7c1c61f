"""`apollo import --format innovatorbench` on the embedded stack: shown, never run, never twice."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.e2e.apollo_cli import apollo
from tests.importing.innovatorbench_files import (
    NODE_FILE,
    NODE_ID,
    break_tool_call_repr,
    edited_node,
    truncated_node,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

# Long enough for the policy, sandbox and summarizer to act on the import, were they to.
SERVICES_REACT_WITHIN_S = 5.0


def test_bad_files_archive_nothing_and_the_node_imports_once(stack: Path, tmp_path: Path) -> None:
    for broken in (truncated_node(tmp_path), edited_node(tmp_path, break_tool_call_repr)):
        refused = apollo(stack, "import", "--format", "innovatorbench", str(broken), check=False)
        assert refused.returncode == 2, refused.stderr
        assert str(broken) in refused.stderr
    assert apollo(stack, "events", NODE_ID, check=False).returncode == 1

    first = apollo(stack, "import", "--format", "innovatorbench", str(NODE_FILE), "--json")
    counts = json.loads(first.stdout)
    assert counts["added"] == counts["read"] > 0
    assert counts["skipped"] == 0

    time.sleep(SERVICES_REACT_WITHIN_S)
    exported = apollo(stack, "export", NODE_ID).stdout
    events = [json.loads(line) for line in exported.splitlines()]
    # Nothing ran it: every event is the importer's, none a service's answer.
    assert len(events) == counts["read"]
    assert {event["source"]["service"] for event in events} == {"import"}
    calls = [e["action_proposed"]["tool_call"]["name"] for e in events if "action_proposed" in e]
    assert calls.count("run_command") == 21
    assert sum("context_summarized" in event for event in events) == 1

    shown = apollo(stack, "events", NODE_ID).stdout.splitlines()
    assert len(shown) == counts["read"]
    (row,) = [
        r for r in json.loads(apollo(stack, "trajectories", "--json").stdout)
        if r["trajectory_id"] == NODE_ID
    ]  # fmt: skip
    assert row["steps"] == len(calls)

    again = json.loads(
        apollo(stack, "import", "--format", "innovatorbench", str(NODE_FILE), "--json").stdout
    )
    assert again == {"read": counts["read"], "added": 0, "skipped": counts["read"]}
    assert apollo(stack, "export", NODE_ID).stdout == exported
