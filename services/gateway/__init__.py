"""The gateway: annotators' HTTP API and web app, the gRPC control API, and auth."""
