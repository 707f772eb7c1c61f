"""Browser-test fixtures: the real gateway, Debian's Chromium driven by Playwright, helpers.

Each test gets its own gateway (in-memory adapters, served on loopback from a thread);
tests reach it through `gateway_url`, `push_event` and `create_user`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from served_gateway import ServedGateway

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per module; each test gets its own context.

    Not per session: sync Playwright keeps an event loop running in this thread,
    which pytest-asyncio's tests after these modules need free.
    """
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def gateway() -> Iterator[ServedGateway]:
    served = ServedGateway().start()
    yield served
    served.stop()


@pytest.fixture
def gateway_url(gateway: ServedGateway) -> str:
    return gateway.url


@pytest.fixture
def push_event(gateway: ServedGateway) -> Callable[[dict[str, Any]], None]:
    """Records an event as the agent's services would, so it streams to the browser."""
    return gateway.push_event


@pytest.fixture
def create_user(gateway: ServedGateway) -> Callable[..., str]:
    """create_user(name, role="annotator") → API token."""
    return gateway.create_user


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of every alert/confirm the page opened (there must be none)."""
    return []


@pytest.fixture
def page(browser: Browser, gateway_url: str, dialogs: list[str]) -> Iterator[Page]:
    context = browser.new_context(base_url=gateway_url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(5000)
    tab = context.new_page()

    def record(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    errors: list[str] = []
    tab.on("dialog", record)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], "the web app threw uncaught errors"


@pytest.fixture
def log_in(page: Page) -> Callable[[str], None]:
    """log_in(token): signs in through the login screen and waits for the list."""

    def sign_in(token: str) -> None:
        page.goto("/")
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.locator(".list-view").wait_for()

    return sign_in
