"""Fixtures of the dataset tests: a guided, summarized, judged trajectory and a tiny tokenizer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The renderer tests' LogBook writes logs the way the services do; tests/ has no packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))

from dataset_fixture import JudgedLog, judged_log, tiny_tokenizer

from services.eventlog.archive import InMemoryArchive
from services.trainer.tokenization import SampleTokenizer


@pytest.fixture
def log() -> JudgedLog:
    """Two summaries, guidance, and masked actions under the test ruleset."""
    return judged_log()


@pytest.fixture
async def archive(log: JudgedLog) -> InMemoryArchive:
    """An in-memory archive holding the log and its verdicts."""
    store = InMemoryArchive()
    await store.append(log.archived())
    return store


@pytest.fixture(scope="session")
def tokenizer() -> SampleTokenizer:
    """A byte-level BPE tokenizer with a ChatML template, trained on the fixture's texts."""
    return SampleTokenizer(tiny_tokenizer(), "tiny-bpe")
