"""The embedded stack: Tansu broker, embedded Postgres and the service processes."""
