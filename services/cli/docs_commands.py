"""`apollo docs`: documents generated from the code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.eventlog.kafka.asyncapi import asyncapi_yaml

docs_app = typer.Typer(help="Generated documentation.", no_args_is_help=True)

# Where the committed document lives, relative to the repository root.
ASYNCAPI_PATH = Path("docs/asyncapi.yaml")


@docs_app.command("asyncapi")
def asyncapi(
    out: Annotated[Path, typer.Option("--out", help="Where to write the YAML")] = ASYNCAPI_PATH,
) -> None:
    """Write the AsyncAPI document of every topic and event family."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(asyncapi_yaml())
    typer.echo(f"wrote {out}")
