"""What only the directory blob store has: its file layout and atomic writes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from services.eventlog.blobs import DirectoryBlobStore

pytestmark = pytest.mark.timeout(10)


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


async def test_blobs_are_sharded_by_the_first_digest_bytes(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    hex_digest = hashlib.sha256(b"output").hexdigest()

    await store.put(b"output", "text/plain")

    path = tmp_path / hex_digest[:2] / hex_digest[2:4] / hex_digest
    assert store.path_of(f"sha256:{hex_digest}") == path
    assert path.read_bytes() == b"output"


async def test_a_failed_write_leaves_neither_blob_nor_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DirectoryBlobStore(tmp_path)

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        await store.put(b"never lands", "text/plain")

    assert files_under(tmp_path) == []
    assert not await store.exists("sha256:" + hashlib.sha256(b"never lands").hexdigest())


async def test_an_existing_blob_is_not_rewritten(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    ref = await store.put(b"kept", "text/plain")
    path = store.path_of(ref.digest)
    inode = path.stat().st_ino

    await store.put(b"kept", "text/plain")

    assert path.stat().st_ino == inode
