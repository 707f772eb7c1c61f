"""What every hidden grader shares: its arguments, capped reads of untrusted outputs, scoring.

A grader runs as `python grader.py OUTPUTS HIDDEN` outside the sandbox and prints one JSON
object with a "score"; see services/sandbox/grading.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Outputs are untrusted: read at most this much of any file.
MAX_BYTES = 20_000_000


def arguments() -> tuple[Path, Path]:
    """The copy of the agent's outputs and the pack's hidden directory."""
    return Path(sys.argv[1]), Path(sys.argv[2])


def calibrated(metric: float, base: float, ref: float) -> float:
    """InnovatorBench calibration: the starting point scores 0, the reference 80."""
    return max(0.0, min(100.0, 80.0 * (metric - base) / (ref - base)))


def report(metric: float, base: float, ref: float, **details: object) -> None:
    """Print the grader's result line."""
    score = round(calibrated(metric, base, ref), 2)
    print(json.dumps({"score": score, "metric": metric, **details}))


def read_json_lines(path: Path) -> list:
    """The parseable JSON lines of a capped read of `path`; the rest is skipped."""
    rows = []
    for line in path.read_text(errors="replace")[:MAX_BYTES].splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def read_label_predictions(path: Path) -> dict[int, int]:
    """A JSON object {example index: label} from a capped read; {} if missing or malformed."""
    try:
        raw = json.loads(path.read_text()[:MAX_BYTES]) if path.is_file() else {}
        return {int(k): int(v) for k, v in dict(raw).items()}
    except (ValueError, TypeError):
        return {}
