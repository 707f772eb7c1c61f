"""Archive ingest: events/s through PgArchive.append vs a bare COPY of the same rows.

Both sides start from the same decoded events and write them in recorder-sized batches
into their own fresh database of one embedded Postgres: the archive with dedup, read
models and offsets in one transaction per batch; the baseline with
`copy_records_to_table` into an index-free table of the archive's event columns. Each
side runs `--repeat` times, taking turns, and the median rate counts. Prints one JSON line.

    python -m bench.archive_ingest [--events 20000] [--batch 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from apollo.v1 import events_pb2 as pb
from bench._embedded import measure_on_embedded_postgres
from bench._report import ratio_line
from services.eventlog.archive import occurred_at
from services.eventlog.codec import encode
from services.eventlog.events import new_event
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import TRAJECTORIES

LOG = TRAJECTORIES.name
STEPS_PER_TRAJECTORY = 200
BARE_TABLE = """
CREATE TABLE bare_events (
    event_id text, trajectory_id text, topic text, kind text,
    occurred_at timestamptz, payload bytea
)
"""
Ingest = Callable[[str, list[pb.Event], int], Awaitable[float]]


def synthetic_trajectory() -> list[pb.Event]:
    """One trajectory as the stack writes it: a start, action/observation pairs, some
    guidance, an end; payloads of realistic size (about 1-2 KB)."""
    trajectory_id = f"bench-{uuid.uuid4().hex[:12]}"
    bodies: list = [pb.TrajectoryStarted(task_id="bench-task", task_description="x" * 800)]
    for step in range(STEPS_PER_TRAJECTORY):
        call = pb.ToolCall(call_id=f"c{step}", name="bash", arguments_json='{"cmd":"ls -la"}')
        bodies.append(pb.ActionProposed(step_index=step, assistant_text="t" * 700, tool_call=call,
                                        prompt_digest="sha256:" + "0" * 64))  # fmt: skip
        observed = pb.ObservationRecorded(action_id=f"a{step}", step_index=step, success=True)
        observed.observation_json = "o" * 1500
        bodies.append(observed)
        if step % 25 == 0:
            bodies.append(pb.GuidanceSubmitted(annotator="bench", text="look at the logs"))
    bodies.append(pb.TrajectoryEnded(reason=pb.END_REASON_FINISHED, final_score=50.0))
    return [new_event(body, trajectory_id=trajectory_id, service="bench") for body in bodies]


def synthetic_log(count: int) -> list[pb.Event]:
    """`count` events of consecutive trajectories."""
    events: list[pb.Event] = []
    while len(events) < count:
        events.extend(synthetic_trajectory())
    return events[:count]


async def archive_ingest(dsn: str, events: list[pb.Event], batch: int) -> float:
    """Seconds to append everything through PgArchive, offsets included, like the recorder."""
    archive = await PgArchive.connect(dsn)
    try:
        await archive.migrate()
        started = time.perf_counter()
        for start in range(0, len(events), batch):
            chunk = [(LOG, event) for event in events[start : start + batch]]
            await archive.append(chunk, offsets={("bench", LOG, 0): start + len(chunk)})
        elapsed = time.perf_counter() - started
        if await archive.count() != len(events):
            raise RuntimeError("the archive holds fewer events than were appended")
        return elapsed
    finally:
        await archive.close()


async def copy_ingest(dsn: str, events: list[pb.Event], batch: int) -> float:
    """Seconds to COPY the same rows, batch by batch, into a bare table."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(BARE_TABLE)
        started = time.perf_counter()
        for start in range(0, len(events), batch):
            rows = [
                (e.event_id, e.trajectory_id, LOG, e.WhichOneof("body"), occurred_at(e), encode(e))
                for e in events[start : start + batch]
            ]
            await connection.copy_records_to_table("bare_events", records=rows)
        return time.perf_counter() - started
    finally:
        await connection.close()


async def fresh_database(server_dsn: str) -> str:
    """A new empty database on the server, so runs never see each other's rows."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server_dsn.replace("@/postgres?", f"@/{name}?")


async def rate(server_dsn: str, ingest: Ingest, events: list[pb.Event], batch: int) -> float:
    """Events/s of one run into a fresh database."""
    return len(events) / await ingest(await fresh_database(server_dsn), events, batch)


async def run(server_dsn: str, count: int, batch: int, repeat: int) -> dict:
    """Measure both sides on the same events, taking turns; return the result line."""
    events = synthetic_log(count)
    archived, copied = [], []
    for _ in range(repeat):
        archived.append(await rate(server_dsn, archive_ingest, events, batch))
        copied.append(await rate(server_dsn, copy_ingest, events, batch))
    value, baseline = statistics.median(archived), statistics.median(copied)
    return ratio_line("archive_ingest", "events_per_s", value, baseline, "events/s")


def main() -> None:
    """Start an embedded Postgres in a temporary directory, measure, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events to ingest per run")
    parser.add_argument("--batch", type=int, default=500, help="events per append (recorder batch)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; the median counts")
    args = parser.parse_args()
    measure_on_embedded_postgres(lambda dsn: run(dsn, args.events, args.batch, args.repeat))


if __name__ == "__main__":
    main()
