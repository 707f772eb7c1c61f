"""An imported InnovatorBench node is judged like any trajectory: re-judging the archive
gives every one of its actions a verdict under the shipped default ruleset, once."""

from __future__ import annotations

import pytest

from services.cli.innovatorbench import read_node_events
from services.eventlog.archive import InMemoryArchive
from services.eventlog.topics import TRAJECTORIES, topic_for
from services.judge.rejudge import Rejudging, Selection
from services.judge.ruleset import shipped_ruleset
from tests.importing.innovatorbench_files import MESSAGE_CALLS, NODE_FILE, NODE_ID

pytestmark = pytest.mark.timeout(60)


async def test_every_imported_action_is_judged_once_and_the_log_is_untouched() -> None:
    archive = InMemoryArchive()
    events = read_node_events(NODE_FILE)
    await archive.append([(topic_for(event).name, event) for event in events])
    log_before = [r.raw for r in await archive.events(NODE_ID) if r.topic == TRAJECTORIES.name]
    ruleset = shipped_ruleset("default")
    rejudging = Rejudging(archive, ruleset, Selection(trajectory_ids=(NODE_ID,)))

    tally = await rejudging.run(await rejudging.trajectory_ids())
    again = await rejudging.run(await rejudging.trajectory_ids())

    actions = sum(MESSAGE_CALLS.values()) + 1  # the node's own response is the last step
    assert (tally.trajectories, tally.actions, tally.recorded) == (1, actions, actions)
    assert again.recorded == 0
    verdicts = await archive.verdicts(ruleset.version, [NODE_ID])
    assert sorted(row.step_index for row in verdicts) == sorted(
        e.action_proposed.step_index for e in events if e.HasField("action_proposed")
    )
    log_after = [r.raw for r in await archive.events(NODE_ID) if r.topic == TRAJECTORIES.name]
    assert log_after == log_before
