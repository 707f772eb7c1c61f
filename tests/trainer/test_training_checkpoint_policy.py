"""A checkpoint directory is a local policy: `local:DIR` builds the local backend on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_fixtures import tiny_base_model

from services.llm import backend_from_spec
from services.llm.local import LocalBackend
from services.llm.local_model import ModelNotFetchedError, load_local_model


@pytest.mark.timeout(120)
def test_local_dir_runs_the_model_directory_and_records_it_by_path(tmp_path: Path) -> None:
    checkpoint = tiny_base_model(tmp_path / "ckpt-test")
    backend = backend_from_spec(f"local:{checkpoint}")
    assert isinstance(backend, LocalBackend)
    # The recorded spec names the directory, so `local:` + it rebuilds the same backend.
    assert backend.spec.model == str(checkpoint)
    loaded = backend.loaded_model()
    assert loaded.model.config.num_hidden_layers == 2


@pytest.mark.timeout(60)
def test_a_directory_that_holds_no_model_says_what_to_name(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFetchedError, match="checkpoint directory"):
        load_local_model(tmp_path)
