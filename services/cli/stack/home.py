"""Where an embedded stack keeps its data: `APOLLO_HOME` or ~/.local/share/apollo."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ApolloHome:
    """The directory of one embedded stack; several can run side by side."""

    root: Path

    @classmethod
    def resolve(cls) -> ApolloHome:
        configured = os.environ.get("APOLLO_HOME")
        root = Path(configured) if configured else Path.home() / ".local" / "share" / "apollo"
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
