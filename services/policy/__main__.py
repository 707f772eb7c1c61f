"""`python -m services.policy`: propose the actions of every trajectory until SIGTERM or SIGINT."""

import asyncio

from services.policy.app import main

if __name__ == "__main__":
    asyncio.run(main())
