"""The recorder: archives every topic into Postgres, idempotently, with read models."""
