"""`apollo judge …`: the action judge's rulesets, and re-judging the archive, from a shell."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.cli.connection import Connection
from services.cli.judge_agreement import agreement
from services.cli.judge_archive import (
    archive_connection,
    opened_archive,
    opened_judge_models,
    reachable_bus,
)
from services.cli.judge_reports import diff, rulesets, show
from services.cli.options import parse_labels
from services.judge.judging import llm_rules
from services.judge.rejudge import (
    BATCH_TRAJECTORIES,
    Rejudging,
    Selection,
    Tally,
    UnknownTrajectories,
)
from services.judge.ruleset import Ruleset, RulesetError, load_ruleset, shipped_ruleset
from services.judge.settings import JudgeSettings

# The exit status of unusable input (a ruleset, a selector), as `apollo judge lint` reports it.
BAD_INPUT_EXIT = 2

judge_app = typer.Typer(help="The action judge and its rulesets.", no_args_is_help=True)
judge_app.command()(rulesets)
judge_app.command()(diff)
judge_app.command()(show)
judge_app.command()(agreement)
console = Console(stderr=True)


def ruleset_or_exit(file: Path) -> Ruleset:
    """The ruleset in `file`, or the shipped one of that name (`default`) where no such file
    exists; where it is wrong on stderr and exit 2 otherwise."""
    try:
        if not file.exists() and file.name == str(file) and not file.suffix:
            return shipped_ruleset(file.name)
        return load_ruleset(file)
    except RulesetError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(BAD_INPUT_EXIT) from None


@judge_app.command()
def lint(
    file: Annotated[Path, typer.Argument(help="Ruleset YAML file", dir_okay=False)],
) -> None:
    """Check a ruleset file; print its version and rule count, or where it is wrong."""
    ruleset = ruleset_or_exit(file)
    typer.echo(f"{file}: {len(ruleset.rules)} rules, version {ruleset.version}")


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 date", param_hint="--since"
        ) from None
    # A date without a zone is read as UTC, the archive's zone.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@judge_app.command(name="run")
def run_(
    rules: Annotated[
        Path,
        typer.Option(
            "--rules",
            help="Ruleset YAML file, or a shipped ruleset's name (`default`)",
            dir_okay=False,
        ),
    ],
    trajectory: Annotated[
        list[str] | None, typer.Option("--trajectory", help="Only this trajectory (repeatable)")
    ] = None,
    task: Annotated[str | None, typer.Option(help="Only trajectories of this task")] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Only trajectories started with KEY=VALUE")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only trajectories started at or after this ISO date")
    ] = None,
    budget: Annotated[
        int | None, typer.Option(min=0, help="Judge at most this many actions; rerun to go on")
    ] = None,
    max_calls: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Make at most this many uncached llm_judge model calls (as estimated; a "
            "malformed answer's retry is extra); rerun to go on",
        ),
    ] = None,
    model_concurrency: Annotated[
        int, typer.Option(min=1, help="Calls in flight per judge model of llm_judge rules")
    ] = JudgeSettings.model_fields["judge_model_concurrency"].default,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what it would do")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON")] = False,
    batch: Annotated[
        int, typer.Option(min=1, help="Trajectories read per archive query")
    ] = BATCH_TRAJECTORIES,
) -> None:
    """Re-judge archived trajectories under a ruleset; each action is judged once per version."""
    # Everything the user typed is checked before anything is connected to or recorded.
    ruleset = ruleset_or_exit(rules)
    selection = Selection(tuple(trajectory or ()), task, parse_labels(label or []), _since(since))
    limits = Limits(budget, max_calls, model_concurrency)
    try:
        plan, tally = asyncio.run(
            rejudge_archive(archive_connection(), ruleset, selection, limits, dry_run, batch)
        )
    except UnknownTrajectories as error:
        console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(BAD_INPUT_EXIT) from None
    if as_json:
        done = {} if tally is None else {"run": tally.as_json()}
        print(json.dumps({"ruleset_version": ruleset.version, "plan": plan.as_json(), **done}))
    elif tally is not None:
        console.print(
            f"judged {tally.judged} actions of {tally.trajectories} trajectories: "
            f"{tally.recorded} verdicts recorded"
            + (f", {tally.model_calls} model calls" if llm_rules(ruleset) else "")
            + (f"; {limits.budgets()} reached, rerun to go on where it stopped"
               if tally.budget_reached else "")
        )  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """What one `judge run` may spend: actions judged, model calls, calls in flight (no limit
    on the first two unless given)."""

    actions: int | None = None
    model_calls: int | None = None
    model_concurrency: int = JudgeSettings.model_fields["judge_model_concurrency"].default

    def budgets(self) -> str:
        """The budgets given, e.g. "budget of 10 actions / 50 model calls"; "" if none."""
        given = [
            f"{amount} {unit}"
            for amount, unit in ((self.actions, "actions"), (self.model_calls, "model calls"))
            if amount is not None
        ]
        return f"budget of {' / '.join(given)}" if given else ""


async def rejudge_archive(
    connection: Connection,
    ruleset: Ruleset,
    selection: Selection,
    limits: Limits,
    dry_run: bool = False,
    batch: int = BATCH_TRAJECTORIES,
    quiet: bool = False,
) -> tuple[Tally, Tally | None]:
    """The plan, then (unless a dry run) the run: into the archive, published when possible;
    `quiet` keeps the plan line and the progress bar off stderr."""
    dsn = connection.postgres_dsn
    async with opened_archive(dsn) as archive, opened_judge_models(
        dsn, ruleset, limits.model_concurrency
    ) as models:  # fmt: skip
        rejudging = Rejudging(archive, ruleset, selection, batch, models)
        ids = await rejudging.trajectory_ids()
        plan = await rejudging.plan(ids)
        if not quiet:
            console.print(
                _plan_line(ruleset, plan, limits)
                + (" — dry run, nothing recorded" if dry_run else "")
            )
        if dry_run:
            return plan, None
        async with reachable_bus(connection.kafka) as bus:
            with Progress(
                TextColumn("judging"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, disable=quiet,
            ) as progress:  # fmt: skip
                task = progress.add_task("judging", total=len(ids))
                tally = await rejudging.run(
                    ids,
                    limits.actions,
                    bus,
                    on_batch=lambda done: progress.advance(task, done),
                    max_calls=limits.model_calls,
                )
        return plan, tally


def _plan_line(ruleset: Ruleset, plan: Tally, limits: Limits) -> str:
    """What the run will judge and, with llm_judge rules, the model calls it will cost."""
    pending = plan.actions - plan.already_judged
    cost = (
        f", {plan.model_calls} model calls, ~{plan.prompt_tokens} prompt tokens"
        if llm_rules(ruleset)
        else ""
    )
    given = limits.budgets()
    return (
        f"ruleset {ruleset.version}: {plan.trajectories} trajectories, {plan.actions} "
        f"actions, {plan.already_judged} already judged, {pending} to judge{cost}"
        + (f" ({given})" if given else "")
    )
