"""Write the Apollo dashboards' JSON into deploy/grafana/dashboards, or with --check, fail if
the committed JSON differs from what the code builds.

    python -m deploy.grafana.dashboards [--check]
"""

import argparse
import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from deploy.grafana.interventions import interventions
from deploy.grafana.pipeline import pipeline
from deploy.grafana.quality import quality

FOLDER = Path(__file__).parent / "dashboards"


def dashboards() -> dict[str, Dashboard]:
    """Each dashboard under the file name it is written to."""
    return {
        "interventions.json": interventions(),
        "pipeline-health.json": pipeline(),
        "data-quality.json": quality(),
    }


def render(dashboard: Dashboard) -> str:
    """The dashboard's JSON, its panels and rows numbered in order (Grafana wants unique ids)."""
    model = dashboard.build()
    for number, panel in enumerate(model.panels or [], start=1):
        panel.id_val = number
    return json.dumps(model, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def stale_files() -> list[str]:
    """Names of the JSON files that are missing, differ from the code, or no longer built."""
    built = {name: render(dashboard) for name, dashboard in dashboards().items()}
    on_disk = {path.name: path.read_text() for path in FOLDER.glob("*.json")}
    return sorted(
        name for name in built.keys() | on_disk.keys() if built.get(name) != on_disk.get(name)
    )


def write() -> None:
    built = dashboards()
    for path in FOLDER.glob("*.json"):
        if path.name not in built:
            path.unlink()
    for name, dashboard in built.items():
        (FOLDER / name).write_text(render(dashboard))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale JSON, write nothing")
    if not parser.parse_args().check:
        write()
        return 0
    stale = stale_files()
    for name in stale:
        print(f"stale: {FOLDER / name} (run python -m deploy.grafana.dashboards)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
