"""Verdicts on the timeline (masked steps, readable reasons, a ruleset picker) and the
annotator's keep/mask buttons."""

from __future__ import annotations

import pytest
import trajectory_events as ev
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(30)
OLD, NEW = "sha256:" + "0a" * 32, "sha256:" + "0b" * 32
REPEAT = {
    "rule_id": "repeated-call",
    "detail": "the same call twice with an unchanged observation",
    "evidence_step_indices": [0, 1],
    "quote": "<img src=x onerror=alert(1)>",
}


@pytest.fixture
def two_steps(push_event) -> tuple[str, list[dict]]:
    """A running trajectory with two steps; returns its id and its actions."""
    trajectory_id = ev.new_trajectory_id()
    push_event(ev.started(trajectory_id))
    actions = []
    for step in (0, 1):
        proposed = ev.action(trajectory_id, step, arguments={"command": "ls", "session": "s"})
        push_event(proposed)
        push_event(ev.observation(proposed, output="same"))
        actions.append(proposed)
    return trajectory_id, actions


def test_the_newest_rulesets_verdicts_show_and_the_picker_switches_version(
    page: Page, create_user, push_event, log_in, two_steps
) -> None:
    trajectory_id, (first, second) = two_steps
    for action in (first, second):
        push_event(ev.judged(action, OLD))
    push_event(ev.judged(first, NEW))
    push_event(ev.judged(second, NEW, REPEAT))
    log_in(create_user("vera", "viewer"))
    page.goto(f"/#/trajectories/{trajectory_id}")

    step = page.locator("#step-1")
    expect(step).to_have_class("entry step masked")
    expect(step.locator(".badge.masked")).to_have_text("masked")
    reason = step.locator(".reason")
    expect(reason.locator(".rule-id")).to_have_text("repeated-call")
    expect(reason).to_contain_text("the same call twice with an unchanged observation")
    expect(reason.locator(".evidence")).to_have_text(" · evidence: step 0, step 1")
    expect(reason.locator(".reason-quote")).to_have_text("<img src=x onerror=alert(1)>")
    expect(page.locator("#step-0 .badge.kept")).to_have_text("kept")
    picker = page.get_by_label("Ruleset version")
    expect(picker.locator("option")).to_have_count(2)
    expect(picker).to_have_value(NEW)

    picker.select_option(OLD)
    expect(step).to_have_class("entry step")
    expect(step.locator(".badge.kept")).to_have_text("kept")

    push_event(ev.judged(first, OLD, {**REPEAT, "evidence_step_indices": [0]}))
    expect(page.locator("#step-0")).to_have_class("entry step masked")
    expect(page.locator(".label-button")).to_have_count(0)  # a viewer labels nothing


def test_an_annotator_labels_a_step_keep_or_mask_and_sees_the_label(
    page: Page, create_user, log_in, two_steps
) -> None:
    trajectory_id, _ = two_steps
    log_in(create_user("alice"))
    page.goto(f"/#/trajectories/{trajectory_id}")
    expect(page.get_by_label("Ruleset version")).to_be_hidden()  # nothing judged it yet
    step = page.locator("#step-1")

    step.get_by_role("button", name="mask").click()
    expect(step.locator(".badge.labelled")).to_have_text("labelled mask by alice")
    expect(step.get_by_role("button", name="mask")).to_have_attribute("aria-pressed", "true")

    step.get_by_role("button", name="keep").click()
    expect(step.locator(".badge.labelled")).to_have_text("labelled keep by alice")
    expect(step.get_by_role("button", name="mask")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#step-0 .badge.labelled")).to_have_count(0)
