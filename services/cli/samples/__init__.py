"""Built-in sample data shipped with the `apollo` command."""

from pathlib import Path

# A finished run in `apollo export` form (written by tests/golden/make_sample.py): import it
# to browse a recorded trajectory without running an agent; the tests use it as one.
SAMPLE_TRAJECTORY = Path(__file__).with_name("sample_trajectory.jsonl")
