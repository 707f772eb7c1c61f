"""`python -m services.judge`: judge every action in the log until SIGTERM or SIGINT."""

import asyncio

from services.judge.app import main

if __name__ == "__main__":
    asyncio.run(main())
