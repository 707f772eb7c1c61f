"""The blob store contract, run against the in-memory, directory and Postgres stores."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from services.eventlog.blobs import (
    BlobCorrupted,
    BlobNotFound,
    BlobStore,
    DirectoryBlobStore,
    InMemoryBlobStore,
    InvalidDigest,
)
from services.eventlog.pg_blobs import PgBlobStore

pytestmark = pytest.mark.timeout(60)

TEXT = "text/plain; charset=utf-8"


@dataclass
class Backend:
    """A store plus what only a test may do to it: look inside and damage it."""

    store: BlobStore
    copies: Callable[[], Awaitable[int]]
    corrupt: Callable[[str], Awaitable[None]]


def _memory() -> Backend:
    store = InMemoryBlobStore()

    async def copies() -> int:
        return len(store._content)

    async def corrupt(digest: str) -> None:
        store._content[digest] = b"tampered"

    return Backend(store, copies, corrupt)


def _directory(root: Path) -> Backend:
    store = DirectoryBlobStore(root)

    def count_files() -> int:
        return sum(1 for path in root.rglob("*") if path.is_file())

    async def copies() -> int:
        return await asyncio.to_thread(count_files)

    async def corrupt(digest: str) -> None:
        await asyncio.to_thread(store.path_of(digest).write_bytes, b"tampered")

    return Backend(store, copies, corrupt)


async def _postgres(dsn: str) -> Backend:
    store = await PgBlobStore.connect(dsn)
    await store.migrate()

    async def query(sql: str, *args):
        connection = await asyncpg.connect(dsn)
        try:
            return await connection.fetchval(sql, *args)
        finally:
            await connection.close()

    async def copies() -> int:
        return await query("SELECT count(*) FROM blobs")

    async def corrupt(digest: str) -> None:
        await query("UPDATE blobs SET content = 'tampered'::bytea WHERE digest = $1", digest)

    return Backend(store, copies, corrupt)


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("directory", id="directory"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.integration),
    ]
)
def blob_place(request, tmp_path: Path) -> Path | str | None:
    """Where each implementation keeps blobs: memory (None), a directory, a database DSN."""
    if request.param == "memory":
        return None
    if request.param == "directory":
        return tmp_path / "blobs"
    return request.getfixturevalue("pg_dsn")


@pytest.fixture
async def backend(blob_place: Path | str | None) -> AsyncIterator[Backend]:
    """An empty blob store of each implementation."""
    if blob_place is None:
        yield _memory()
    elif isinstance(blob_place, Path):
        yield _directory(blob_place)
    else:
        backend = await _postgres(blob_place)
        yield backend
        await backend.store.close()


async def test_put_returns_the_content_reference(backend) -> None:
    data = b"full command output\n" * 100

    ref = await backend.store.put(data, TEXT)

    assert ref.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert (ref.size_bytes, ref.media_type) == (len(data), TEXT)


async def test_get_returns_what_was_put(backend) -> None:
    small, empty = await backend.store.put(b"hello", TEXT), await backend.store.put(b"", TEXT)

    assert await backend.store.get(small.digest) == b"hello"
    assert await backend.store.get(empty.digest) == b""
    assert await backend.store.exists(small.digest)


async def test_the_same_content_is_stored_once_under_the_same_reference(backend) -> None:
    first = await backend.store.put(b"same bytes", TEXT)
    second = await backend.store.put(b"same bytes", TEXT)
    together = await asyncio.gather(*(backend.store.put(b"raced", TEXT) for _ in range(5)))

    assert first == second
    assert len({ref.digest for ref in together}) == 1
    assert await backend.copies() == 2


async def test_different_content_gets_different_digests(backend) -> None:
    one, two = await backend.store.put(b"one", TEXT), await backend.store.put(b"two", TEXT)

    assert one.digest != two.digest
    assert (await backend.store.get(one.digest), await backend.store.get(two.digest)) == (
        b"one",
        b"two",
    )


async def test_a_missing_blob_is_not_found(backend) -> None:
    absent = "sha256:" + hashlib.sha256(b"never stored").hexdigest()

    assert not await backend.store.exists(absent)
    with pytest.raises(BlobNotFound, match=absent):
        await backend.store.get(absent)


@pytest.mark.parametrize(
    "digest",
    ["", "sha256:abc", "md5:" + "0" * 32, "sha256:" + "A" * 64, "sha256:../../../etc/passwd"],
    ids=["empty", "short", "other-algorithm", "uppercase", "path-traversal"],
)
async def test_a_malformed_digest_is_rejected(backend, digest) -> None:
    with pytest.raises(InvalidDigest):
        await backend.store.get(digest)
    with pytest.raises(InvalidDigest):
        await backend.store.exists(digest)


async def test_corrupted_content_is_detected_on_read(backend) -> None:
    ref = await backend.store.put(b"precious output", TEXT)

    await backend.corrupt(ref.digest)

    with pytest.raises(BlobCorrupted, match=ref.digest):
        await backend.store.get(ref.digest)


async def test_a_large_blob_round_trips(backend) -> None:
    data = bytes(range(256)) * 20_000  # 5 MB, bigger than any event may be

    ref = await backend.store.put(data, "application/octet-stream")

    assert await backend.store.get(ref.digest) == data
