"""Guidance: sent from the box with flagged steps, shown in place, marked delivered."""

from __future__ import annotations

import pytest
import trajectory_events as ev
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def running(push_event) -> tuple[str, dict]:
    """A running trajectory with two steps; returns its id and the second action."""
    trajectory_id = ev.new_trajectory_id()
    push_event(ev.started(trajectory_id))
    for step in (0, 1):
        proposed = ev.action(
            trajectory_id, step, arguments={"command": f"job {step}", "session": "s"}
        )
        push_event(proposed)
        push_event(ev.observation(proposed, output=f"output {step}"))
    return trajectory_id, proposed


def test_guidance_with_a_flagged_step_is_shown_then_marked_delivered(
    page: Page, create_user, push_event, log_in, running
) -> None:
    trajectory_id, _ = running
    log_in(create_user("alice"))
    page.goto(f"/#/trajectories/{trajectory_id}")
    page.locator("#step-1").get_by_label("Flag step 1 as wrong").check()
    expect(page.locator(".flag-summary")).to_have_text("Flagged as wrong: step 1")

    page.keyboard.press("g")
    expect(page.get_by_label("Guidance text")).to_be_focused()
    page.get_by_label("Kind of guidance").select_option("correction")
    page.get_by_label("Guidance text").fill("Your training script is right, why did you kill it?")
    page.get_by_role("button", name="Send").click()

    guidance = page.locator(".timeline .guidance")
    expect(guidance).to_have_class("entry guidance kind-correction")
    expect(guidance.locator(".guidance-text")).to_have_text(
        "Your training script is right, why did you kill it?"
    )
    expect(guidance.locator(".guidance-flags")).to_have_text("Flags as wrong: step 1")
    expect(guidance.locator(".delivery")).to_contain_text("Queued")
    expect(page.locator("#step-1 .badge.flagged")).to_have_text("flagged by alice")
    expect(page.locator(".flag-summary")).to_have_text("Tick “wrong” on a step to flag it.")
    expect(page.locator("#step-1 input.flag-step")).not_to_be_checked()
    expect(page.get_by_label("Guidance text")).to_have_value("")

    guidance_id = guidance.get_attribute("data-event-id")
    push_event(ev.action(trajectory_id, 2, arguments={"command": "job 1"}, delivered=[guidance_id]))
    expect(guidance.locator(".delivery")).to_have_text("✓ Delivered into the prompt of step 2")
    expect(page.locator("#step-2 .delivered")).to_contain_text("why did you kill it?")


def test_the_servers_validation_error_is_shown(page: Page, create_user, log_in, running) -> None:
    log_in(create_user("alice"))
    page.goto(f"/#/trajectories/{running[0]}")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".guidance-status")).to_contain_text(
        "write some guidance text or flag at least one step"
    )
    expect(page.locator(".timeline .guidance")).to_have_count(0)


def test_a_viewer_cannot_send_guidance(page: Page, create_user, log_in, running) -> None:
    log_in(create_user("victor", "viewer"))
    page.goto(f"/#/trajectories/{running[0]}")
    expect(page.locator("#step-1 .tool")).to_have_text("run_command")
    expect(page.get_by_label("Guidance text")).to_be_disabled()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    expect(page.locator(".viewer-note")).to_be_visible()
    expect(page.locator("input.flag-step")).to_have_count(0)
