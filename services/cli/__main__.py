"""`python -m services.cli` is the `apollo` command."""

from services.cli.main import app

app()
