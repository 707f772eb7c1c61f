"""`python -m services.gateway`: the annotators' HTTP API and web app, and the gRPC control API."""

import asyncio

from services.gateway.app import main

if __name__ == "__main__":
    asyncio.run(main())
