"""`python -m services.recorder`: archive every topic into Postgres."""

import asyncio

from services.recorder.app import main

if __name__ == "__main__":
    asyncio.run(main())
