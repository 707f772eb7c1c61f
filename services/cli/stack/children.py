"""What every child process of the embedded stack shares: stopping it, and its HTTP check."""

from __future__ import annotations

import subprocess
import urllib.request


def stop_child(process: subprocess.Popen | None, timeout: float) -> None:
    """SIGTERM a running child and wait for it; kill it when it takes longer than `timeout`."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    wait_or_kill(process, timeout)


def wait_or_kill(process: subprocess.Popen, timeout: float) -> None:
    """Wait for a child asked to stop; kill it when it takes longer than `timeout`."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def answers_ok(url: str) -> bool:
    """True if `url` answers 200 within 2 s."""
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False
