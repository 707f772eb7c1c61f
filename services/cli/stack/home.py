"""Where an embedded stack keeps its data: `APOLLO_HOME` or ~/.local/share/apollo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.cli.settings import CliSettings


@dataclass(frozen=True)
class ApolloHome:
    """The directory of one embedded stack; several can run side by side."""

    root: Path

    @classmethod
    def resolve(cls) -> ApolloHome:
        root = CliSettings().home or Path.home() / ".local" / "share" / "apollo"
        return cls(root.expanduser().resolve())

    @property
    def postgres_dir(self) -> Path:
        return self.root / "postgres"

    @property
    def blobs_dir(self) -> Path:
        return self.root / "blobs"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def gateway_file(self) -> Path:
        return self.root / "gateway.json"

    @property
    def state_file(self) -> Path:
        return self.root / "stack.json"

    def ensure(self) -> ApolloHome:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        return self
