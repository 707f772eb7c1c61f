"""The one Kafka adapter: the FastStream bus, and positioned readers (archive, tail, rehydrate)."""
