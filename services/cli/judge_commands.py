"""`apollo judge …`: the action judge's rulesets from a shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.judge.ruleset import RulesetError, load_ruleset

judge_app = typer.Typer(help="The action judge and its rulesets.", no_args_is_help=True)


@judge_app.command()
def lint(
    file: Annotated[Path, typer.Argument(help="Ruleset YAML file", dir_okay=False)],
) -> None:
    """Check a ruleset file; print its version and rule count, or where it is wrong."""
    try:
        ruleset = load_ruleset(file)
    except RulesetError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{file}: {len(ruleset.rules)} rules, version {ruleset.version}")
