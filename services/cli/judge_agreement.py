"""`apollo judge agreement`: a ruleset's masks against annotators' labels, or another judge."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from apollo.v1 import events_pb2 as pb
from services.cli.judge_archive import archive_connection
from services.eventlog.pg_archive import PgArchive
from services.judge.agreement import (
    Agreement,
    against_labels,
    between_judges,
    human_masks,
    verdicts_of,
)


async def _calibration_events(dsn: str) -> tuple[list[pb.ActionJudged], list[pb.StepLabeled]]:
    """Every verdict and every step label in the archive, in archive order."""
    archive = await PgArchive.connect(dsn)
    verdicts, labels = [], []
    try:
        async for record in archive.iter_all():
            if record.kind == "action_judged":
                verdicts.append(record.event.action_judged)
            elif record.kind == "step_labeled":
                labels.append(record.event.step_labeled)
    finally:
        await archive.close()
    return verdicts, labels


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def agreement(
    ruleset: Annotated[str, typer.Option(help="The ruleset version to calibrate")],
    against: Annotated[
        str | None,
        typer.Option(help="Another ruleset version: agreement between the two judges instead"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Precision, recall and Cohen's κ of a ruleset's masks against annotators' keep/mask
    labels (the newest label of an action wins), per rule and overall."""
    connection = archive_connection()
    verdicts, labels = asyncio.run(_calibration_events(connection.postgres_dsn))
    for version in (ruleset, against):
        if version is not None and not verdicts_of(verdicts, version):
            typer.echo(
                f"error: no verdicts of ruleset version {version!r} in the archive", err=True
            )
            raise typer.Exit(2)
    judged = verdicts_of(verdicts, ruleset)
    if against is None:
        report = against_labels(judged, human_masks(labels))
    else:
        report = between_judges(judged, verdicts_of(verdicts, against))
    if as_json:
        typer.echo(json.dumps([row.as_json() for row in report], indent=2))
        return
    reference = f"ruleset {against}" if against else "human labels"
    _print_table(report, f"ruleset {ruleset} against {reference}")


def _print_table(report: list[Agreement], title: str) -> None:
    table = Table(title=title)
    for column in ("rule", "actions", "masks agreed", "false masks", "missed", "keeps agreed"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for column in ("precision", "recall", "κ"):
        table.add_column(column, justify="right")
    for row in report:
        counts = (row.actions, row.true_masks, row.false_masks, row.missed_masks, row.true_keeps)
        figures = (row.precision, row.recall, row.kappa)
        table.add_row(row.name, *map(str, counts), *map(_figure, figures))
    Console().print(table)
