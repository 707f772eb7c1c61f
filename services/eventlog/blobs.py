"""The blob store port: large payloads by content digest, verified on every read."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from apollo.v1 import events_pb2 as pb

_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")


class BlobStoreError(Exception):
    """Base of the blob store's errors."""


class InvalidDigest(BlobStoreError, ValueError):
    """A digest that is not "sha256:" and 64 lowercase hex digits."""


class BlobNotFound(BlobStoreError, LookupError):
    """No blob has this digest."""


class BlobCorrupted(BlobStoreError):
    """The stored content no longer matches its digest."""


def digest_of(data: bytes) -> str:
    """The "sha256:<hex>" digest of some content."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def hex_of(digest: str) -> str:
    """The hex part of a well-formed digest; raise `InvalidDigest` otherwise."""
    match = _DIGEST.fullmatch(digest)
    if match is None:
        raise InvalidDigest(f"{digest!r} is not a digest like 'sha256:<64 lowercase hex>'")
    return match.group(1)


def verified(digest: str, data: bytes) -> bytes:
    """Return `data` if it hashes to `digest`, else raise `BlobCorrupted`."""
    actual = digest_of(data)
    if actual != digest:
        raise BlobCorrupted(f"blob {digest} holds content hashing to {actual}")
    return data


def blob_ref(data: bytes, media_type: str) -> pb.BlobRef:
    """The reference an event carries for this content."""
    return pb.BlobRef(digest=digest_of(data), size_bytes=len(data), media_type=media_type)


class BlobStore(Protocol):
    """Content-addressed storage: the same content is stored once, under its digest."""

    async def put(self, data: bytes, media_type: str) -> pb.BlobRef:
        """Store content (once) and return its reference."""

    async def get(self, digest: str) -> bytes:
        """The content; raise `BlobNotFound` or `BlobCorrupted`."""

    async def exists(self, digest: str) -> bool:
        """Whether a blob with this digest is stored."""


class InMemoryBlobStore:
    """Blobs in a dict, for unit tests."""

    def __init__(self) -> None:
        self._content: dict[str, bytes] = {}

    async def put(self, data: bytes, media_type: str) -> pb.BlobRef:
        """Store content (once) and return its reference."""
        ref = blob_ref(data, media_type)
        self._content.setdefault(ref.digest, bytes(data))
        return ref

    async def get(self, digest: str) -> bytes:
        """The content; raise `BlobNotFound` or `BlobCorrupted`."""
        hex_of(digest)
        if digest not in self._content:
            raise BlobNotFound(f"no blob {digest}")
        return verified(digest, self._content[digest])

    async def exists(self, digest: str) -> bool:
        """Whether a blob with this digest is stored."""
        hex_of(digest)
        return digest in self._content


class DirectoryBlobStore:
    """Blobs as files named by digest under `root`, sharded as ab/cd/abcd…."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, digest: str) -> Path:
        """Where the blob with this digest lives (validated, so never outside `root`)."""
        hex_digest = hex_of(digest)
        # Two levels of 256 keep directories small even with millions of blobs.
        return self.root / hex_digest[:2] / hex_digest[2:4] / hex_digest

    async def put(self, data: bytes, media_type: str) -> pb.BlobRef:
        """Store content (once) and return its reference."""
        ref = blob_ref(data, media_type)
        await asyncio.to_thread(self._write, self.path_of(ref.digest), data)
        return ref

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write aside and rename: a reader never sees a half-written blob, even after a crash.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def get(self, digest: str) -> bytes:
        """The content; raise `BlobNotFound` or `BlobCorrupted`."""
        path = self.path_of(digest)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as error:
            raise BlobNotFound(f"no blob {digest} under {self.root}") from error
        return verified(digest, data)

    async def exists(self, digest: str) -> bool:
        """Whether a blob with this digest is stored."""
        return await asyncio.to_thread(self.path_of(digest).is_file)
