"""Importing ResearchGym / InnovatorBench ReAct node files as Apollo trajectories (pure)."""

from __future__ import annotations

from pathlib import Path

from apollo.v1 import events_pb2 as pb
from services.cli.innovatorbench.conversion import FORMAT, node_events
from services.cli.innovatorbench.literals import NodeFileError
from services.cli.innovatorbench.node import read_node

__all__ = ["FORMAT", "NodeFileError", "read_node_events"]


def read_node_events(path: Path) -> list[pb.Event]:
    """Every event of the node file, all converted and checked before any is returned."""
    return node_events(read_node(path))
