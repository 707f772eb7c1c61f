"""`python -m services.sandbox`: run actions of every trajectory until SIGTERM or SIGINT."""

import asyncio

from services.sandbox.app import main

if __name__ == "__main__":
    asyncio.run(main())
