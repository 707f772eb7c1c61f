"""The `apollo` command."""

from __future__ import annotations

import typer

from services.cli.dataset_commands import dataset_app
from services.cli.demo_command import demo
from services.cli.docs_commands import docs_app
from services.cli.eval_commands import eval_app, lineage
from services.cli.experiment_commands import experiment_app
from services.cli.gateway_commands import guide, users_app, watch
from services.cli.judge_commands import judge_app
from services.cli.log_commands import events, export, import_, trajectories
from services.cli.migrate_command import migrate
from services.cli.run_commands import run, trajectory_app
from services.cli.sandbox_commands import sandbox_app, tasks_app
from services.cli.stack_commands import down, status, up
from services.cli.train_check_command import train_check
from services.cli.train_commands import train_command
from services.runtime.observability import configure_logging

app = typer.Typer(
    name="apollo",
    help="Collect and curate training data for long-horizon agents with asynchronous guidance.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _logs_to_stderr() -> None:
    # Unconfigured structlog prints every level to stdout, where `--json` output goes; a
    # command reports progress itself, so only warnings and errors are logged.
    configure_logging("cli", "WARNING")


app.command()(up)
app.command()(down)
app.command()(status)
app.command()(events)
app.command()(export)
app.command(name="import")(import_)
app.command()(trajectories)
app.command()(migrate)
app.command()(demo)
app.command()(run)
app.add_typer(trajectory_app, name="trajectory")
app.add_typer(tasks_app, name="tasks")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(users_app, name="users")
app.add_typer(judge_app, name="judge")
app.add_typer(dataset_app, name="dataset")
app.add_typer(docs_app, name="docs")
app.add_typer(eval_app, name="eval")
experiment_app.command(name="train-check")(train_check)
app.add_typer(experiment_app, name="experiment")
app.command()(lineage)
app.command(name="train")(train_command)
app.command()(guide)
app.command()(watch)
