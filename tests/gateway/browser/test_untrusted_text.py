"""Agent output and guidance are data: markup in them is shown as text, never run."""

from __future__ import annotations

import pytest
import trajectory_events as ev
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(20)

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(2)>"


def test_markup_in_agent_output_and_guidance_is_literal_text(
    page: Page, create_user, push_event, log_in, dialogs: list[str]
) -> None:
    trajectory_id = ev.new_trajectory_id()
    push_event(ev.started(trajectory_id, task_id=SCRIPT, title=IMAGE))
    proposed = ev.action(
        trajectory_id, 0, "run_command", {"command": IMAGE, "session": SCRIPT}, SCRIPT
    )
    push_event(proposed)
    push_event(ev.observation(proposed, output=f"{SCRIPT}\n{IMAGE}", message=IMAGE))
    log_in(create_user("alice"))
    expect(page.locator(f"tr[data-trajectory-id='{trajectory_id}'] a")).to_have_text(SCRIPT)

    page.goto(f"/#/trajectories/{trajectory_id}")
    expect(page.locator(".traj-title")).to_have_text(IMAGE)
    expect(page.locator("#step-0 .assistant")).to_have_text(SCRIPT)
    expect(page.locator("#step-0 .args")).to_contain_text(IMAGE)
    expect(page.locator("#step-0 .output")).to_have_text(f"{SCRIPT}\n{IMAGE}")
    expect(page.locator(".terminal-command")).to_have_text(f"$ {IMAGE}")

    page.get_by_label("Guidance text").fill(f"{SCRIPT} {IMAGE}")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".guidance-text")).to_have_text(f"{SCRIPT} {IMAGE}")

    page.get_by_label("Search the timeline").fill("alert")  # highlighting must stay text too
    expect(page.locator(".timeline mark")).not_to_have_count(0)

    # Markup that had been parsed would have left elements behind, even if blocked by CSP.
    assert page.locator("#app img, #app script").count() == 0
    page.wait_for_timeout(200)  # give any (wrongly) injected handler a chance to fire
    assert dialogs == []
