"""The event log shared by every service: codec, topics, bus, archive, blobs, rehydrate."""
