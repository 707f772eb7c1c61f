"""Built-in sample data shipped with the `apollo` command."""

from pathlib import Path

# What `apollo demo` imports until a live agent exists (written by tests/golden/make_sample.py).
SAMPLE_TRAJECTORY = Path(__file__).with_name("sample_trajectory.jsonl")
