"""The trainer's settings (APOLLO_ARTIFACTS_DIR, plus the shared Kafka and Postgres ones)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.runtime.settings import ServiceSettings

ARTIFACTS_SUBDIR = "artifacts"
DATASETS_SUBDIR = "datasets"


class TrainerSettings(ServiceSettings):
    """Where datasets, checkpoints and evaluation results are written."""

    artifacts_dir: Path | None = Field(
        default=None,
        description="Root of datasets, checkpoints and evaluations "
        "(default: the `artifacts` folder of the Apollo home)",
    )

    def artifacts_root(self, home: Path) -> Path:
        """The artifacts root: APOLLO_ARTIFACTS_DIR, else `<home>/artifacts`."""
        root = self.artifacts_dir or home / ARTIFACTS_SUBDIR
        return root.expanduser().resolve()


def dataset_dir(artifacts_root: Path, dataset_id: str) -> Path:
    """The folder of one dataset: `<artifacts>/datasets/<dataset_id>`."""
    return artifacts_root / DATASETS_SUBDIR / dataset_id
