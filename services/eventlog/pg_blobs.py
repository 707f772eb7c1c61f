"""The blob store in Postgres: one row per digest in the `blobs` table."""

from __future__ import annotations

from apollo.v1 import events_pb2 as pb
from services.eventlog.blobs import BlobNotFound, blob_ref, hex_of, verified
from services.eventlog.pg_archive import ArchiveSchemaAdapter


class PgBlobStore(ArchiveSchemaAdapter):
    """Blobs in Postgres (the `blobs` table), for deployments without an object store."""

    async def put(self, data: bytes, media_type: str) -> pb.BlobRef:
        """Store content (once) and return its reference."""
        ref = blob_ref(data, media_type)
        await self._pool.execute(
            "INSERT INTO blobs (digest, size_bytes, media_type, content) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (digest) DO NOTHING",
            ref.digest,
            ref.size_bytes,
            media_type,
            data,
        )
        return ref

    async def get(self, digest: str) -> bytes:
        """The content; raise `BlobNotFound` or `BlobCorrupted`."""
        hex_of(digest)
        data = await self._pool.fetchval("SELECT content FROM blobs WHERE digest = $1", digest)
        if data is None:
            raise BlobNotFound(f"no blob {digest} in Postgres")
        return verified(digest, data)

    async def exists(self, digest: str) -> bool:
        """Whether a blob with this digest is stored."""
        hex_of(digest)
        return await self._pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM blobs WHERE digest = $1)", digest
        )
