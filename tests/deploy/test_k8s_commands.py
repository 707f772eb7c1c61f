"""Every `apollo` command a manifest runs (the migration, trainer and re-judge Jobs) parses
with the real CLI: a renamed or misspelt option fails here, not in a cluster."""

from __future__ import annotations

import pytest
import typer

from services.cli.main import app
from tests.deploy.k8s_objects import rendered


def parse(args: list[str]) -> dict[str, object]:
    """The options `apollo ARGS` would run with, parsed without running anything."""
    command = typer.main.get_command(app)
    context = command.make_context("apollo", list(args))
    while hasattr(command, "resolve_command"):  # a group: descend to the subcommand
        rest = [*context._protected_args, *context.args]
        name, command, rest = command.resolve_command(context, rest)
        context = command.make_context(name, rest, parent=context)
    return context.params


def apollo_commands() -> list[tuple[str, list[str]]]:
    return [
        (obj["metadata"]["name"], container["command"][1:])
        for obj in rendered()
        if obj["kind"] == "Job"
        for container in obj["spec"]["template"]["spec"]["containers"]
        if container["command"][0] == "apollo"
    ]


def test_the_jobs_run_apollo_commands() -> None:
    jobs = {name for name, _ in apollo_commands()}
    assert jobs == {"apollo-trainer", "apollo-rejudge", "apollo-migrate"}


@pytest.mark.parametrize(("job", "args"), apollo_commands(), ids=[n for n, _ in apollo_commands()])
def test_job_command_parses(job: str, args: list[str]) -> None:
    # Raises on an unknown command or option; a command without options parses to {}.
    assert isinstance(parse(args), dict), job


def test_a_wrong_option_does_not_parse() -> None:
    with pytest.raises(Exception, match="No such option"):
        parse(["train", "--dataset", "d", "--model", "local"])
