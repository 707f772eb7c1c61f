"""Reading an export file and appending its new events through the log."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from google.protobuf import json_format
from rich.progress import Progress

from apollo.v1 import events_pb2 as pb
from services.cli.connection import Connection
from services.eventlog.bus import KafkaBus
from services.eventlog.codec import RejectedMessage, decode, encode
from services.eventlog.jsonl import from_json_line
from services.eventlog.pg_archive import PgArchive

ARCHIVE_TIMEOUT_S = 120.0


class ImportFileError(ValueError):
    """A line of the file is not an acceptable event; nothing was imported."""


def read_export(path: Path) -> list[pb.Event]:
    """Parse and validate every line first, so a bad file imports nothing."""
    events = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(decode(encode(from_json_line(line))))
        except (json_format.ParseError, ValueError) as error:
            reason = error.reason if isinstance(error, RejectedMessage) else str(error)
            raise ImportFileError(f"{path}:{number}: {reason}") from error
    return events


async def import_events(connection: Connection, events: list[pb.Event]) -> dict[str, int]:
    """Publish the events the archive lacks, in file order, and wait until they are archived."""
    archive = await PgArchive.connect(connection.postgres_dsn)
    try:
        known = await archive.has([event.event_id for event in events])
        new = [event for event in events if event.event_id not in known]
        if new:
            async with KafkaBus(connection.kafka, client_id="apollo-import") as bus:
                await bus.publish_many(new)
            await _wait_until_archived(archive, [event.event_id for event in new])
    finally:
        await archive.close()
    return {"read": len(events), "added": len(new), "skipped": len(events) - len(new)}


async def _wait_until_archived(archive: PgArchive, event_ids: list[str]) -> None:
    deadline = time.monotonic() + ARCHIVE_TIMEOUT_S
    with Progress(transient=True) as progress:
        task = progress.add_task("archiving", total=len(event_ids))
        while True:
            done = len(await archive.has(event_ids))
            progress.update(task, completed=done)
            if done == len(event_ids):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"only {done} of {len(event_ids)} events were archived in "
                    f"{ARCHIVE_TIMEOUT_S:.0f}s: is the recorder running (`apollo status`)?"
                )
            await asyncio.sleep(0.1)
