"""Reading an export file and appending its new events through the log."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from google.protobuf import json_format

from apollo.v1 import events_pb2 as pb
from services.cli.connection import Connection
from services.cli.innovatorbench import NodeFileError, read_node_events
from services.eventlog.bus import KafkaBus
from services.eventlog.codec import RejectedMessage, decode, encode
from services.eventlog.jsonl import from_json_line
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import topic_for


class ImportFileError(ValueError):
    """A part of the file is not acceptable; nothing was imported."""


class ImportFormat(StrEnum):
    """The file formats `apollo import` reads."""

    EXPORT = "export"
    INNOVATORBENCH = "innovatorbench"


def read_events(path: Path, file_format: ImportFormat) -> list[pb.Event]:
    """Every event of the file, all checked, so a bad file imports nothing."""
    if file_format is ImportFormat.EXPORT:
        return read_export(path)
    try:
        return read_node_events(path)
    except NodeFileError as error:
        raise ImportFileError(f"{path}: {error}") from error


def read_export(path: Path) -> list[pb.Event]:
    """Parse and validate every line first, so a bad file imports nothing."""
    events = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = from_json_line(line)
            decode(encode(event))  # the checks every consumer runs, upcasting included
            # Kept as written, so the archive holds what the exporting archive held.
            events.append(event)
        except (json_format.ParseError, ValueError) as error:
            reason = error.reason if isinstance(error, RejectedMessage) else str(error)
            raise ImportFileError(f"{path}:{number}: {reason}") from error
    return events


async def import_events(connection: Connection, events: list[pb.Event]) -> dict[str, int]:
    """Archive the events the archive lacks, in file order, then publish them on the log.

    The archive comes first: imported events are history whose side effects already
    happened elsewhere, and services consult the archive before acting on an event.
    """
    archive = await PgArchive.connect(connection.postgres_dsn)
    try:
        known = await archive.has([event.event_id for event in events])
        new = [event for event in events if event.event_id not in known]
        if new:
            await archive.append([(topic_for(event).name, event) for event in new])
            async with KafkaBus(connection.kafka, client_id="apollo-import") as bus:
                await bus.publish_many(new)
    finally:
        await archive.close()
    return {"read": len(events), "added": len(new), "skipped": len(events) - len(new)}
