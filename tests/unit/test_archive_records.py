"""The archive's records and the checks every implementation runs before writing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import (
    ArchivedEvent,
    InvalidAppend,
    TrajectoryRow,
    encode_append,
    in_read_model,
)
from services.eventlog.codec import encode
from services.eventlog.events import new_event
from services.eventlog.pg_archive import SCHEMA
from services.trajectory import TrajectoryStatus

pytestmark = pytest.mark.timeout(10)

WHEN = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
LOG = "apollo.trajectories.v1"


def event(body, trajectory_id: str = "traj-unit-records") -> pb.Event:
    stamp = Timestamp()
    stamp.FromDatetime(WHEN)
    return new_event(body, trajectory_id=trajectory_id, service="test", occurred_at=stamp)


def test_an_archived_event_is_built_from_its_bytes() -> None:
    started = event(pb.TrajectoryStarted(task_id="task-a"))

    record = ArchivedEvent.of(LOG, encode(started), position=42)

    assert record.event == started
    assert (record.position, record.topic, record.raw) == (42, LOG, encode(started))
    assert (record.kind, record.trajectory_id) == ("trajectory_started", "traj-unit-records")
    assert (record.event_id, record.occurred_at) == (started.event_id, WHEN)


def test_a_trajectory_row_serializes_to_json() -> None:
    row = TrajectoryRow("traj-1", "task-a", "finished", 3, 1, WHEN, WHEN, WHEN, 77.5)
    running = TrajectoryRow("traj-2", "", "running", 0, 0, None, None, WHEN, None)

    assert json.loads(json.dumps(row.as_json())) == {
        "trajectory_id": "traj-1",
        "task_id": "task-a",
        "status": "finished",
        "steps": 3,
        "guidance_count": 1,
        "started_at": "2025-03-04T05:06:07.890123+00:00",
        "ended_at": "2025-03-04T05:06:07.890123+00:00",
        "last_activity_at": "2025-03-04T05:06:07.890123+00:00",
        "final_score": 77.5,
    }
    assert (running.as_json()["started_at"], running.as_json()["final_score"]) == (None, None)


def test_only_log_events_of_a_trajectory_feed_the_read_model() -> None:
    action = event(pb.ActionProposed(step_index=0))
    verdict = event(pb.ActionJudged(action_id=action.event_id, verdict=pb.VERDICT_MASK))
    dataset = event(pb.DatasetBuilt(dataset_id="ds-1"), trajectory_id="")

    assert [in_read_model(e) for e in (action, verdict, dataset)] == [True, False, False]


@pytest.mark.parametrize(
    ("events", "offsets", "complaint"),
    [
        ([("", "started")], None, "topic ''"),
        ([(LOG, "no-id")], None, "event ''"),
        ([(LOG, "no-body")], None, "cannot archive"),
        ([], {("", LOG, 0): 1}, "bad offset"),
        ([], {("recorder", LOG, -1): 1}, "bad offset"),
        ([], {("recorder", LOG, 0): -5}, "bad offset -5"),
    ],
    ids=[
        "empty-topic",
        "no-event-id",
        "no-body",
        "no-group",
        "negative-partition",
        "negative-offset",
    ],
)
def test_an_append_is_refused_before_anything_is_written(events, offsets, complaint) -> None:
    samples = {
        "started": event(pb.TrajectoryStarted(task_id="t")),
        "no-id": pb.Event(trajectory_id="x", trajectory_started=pb.TrajectoryStarted(task_id="t")),
        "no-body": pb.Event(event_id="0190c0de-0000-7000-8000-000000000000"),
    }

    with pytest.raises(InvalidAppend, match=complaint):
        encode_append([(topic, samples[name]) for topic, name in events], offsets)


def test_an_accepted_append_is_encoded_deterministically() -> None:
    started = event(pb.TrajectoryStarted(task_id="t", labels={"b": "2", "a": "1"}))

    encoded, offsets = encode_append([(LOG, started)], {("recorder", LOG, 0): 1})

    assert encoded == [(LOG, encode(started), started)]
    assert offsets == {("recorder", LOG, 0): 1}


def test_the_postgres_schema_allows_exactly_the_trajectory_statuses() -> None:
    [allowed] = re.findall(r"CHECK \(status IN \(([^)]*)\)\)", SCHEMA)
    assert re.findall(r"'(\w+)'", allowed) == [status.value for status in TrajectoryStatus]
