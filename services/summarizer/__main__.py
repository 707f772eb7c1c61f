"""`python -m services.summarizer`: answer every SummaryRequested until SIGTERM or SIGINT."""

import asyncio

from services.summarizer.app import main

if __name__ == "__main__":
    asyncio.run(main())
