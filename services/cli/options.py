"""Option values more than one command parses the same way."""

from __future__ import annotations

import typer


def parse_labels(pairs: list[str]) -> dict[str, str]:
    """`--label KEY=VALUE` options as a mapping; a malformed one is a usage error."""
    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--label")
        labels[key] = value
    return labels
