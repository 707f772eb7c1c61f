"""One trajectory: the timeline, sessions and files follow the agent live; search jumps."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import trajectory_events as ev
from playwright.sync_api import Page, expect

from services.gateway.attention import AttentionTotal

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def trajectory_id(push_event) -> str:
    """The CLI's sample trajectory (8 steps, one delivered correction), recorded."""
    trajectory_id = ev.new_trajectory_id()
    for event in ev.sample_trajectory(trajectory_id):
        push_event(event)
    return trajectory_id


def open_trajectory(page: Page, trajectory_id: str) -> None:
    page.goto(f"/#/trajectories/{trajectory_id}")
    expect(page.locator(".timeline .step")).not_to_have_count(0)


def test_a_new_action_and_its_observation_appear_live(
    page: Page, create_user, push_event, log_in, tmp_path: Path
) -> None:
    trajectory_id = ev.new_trajectory_id()
    push_event(ev.started(trajectory_id, title="Deduplicate the corpus"))
    push_event(ev.action(trajectory_id, 0, "open_file", {"path": "README.md"}, "Read first."))
    log_in(create_user("alice"))
    open_trajectory(page, trajectory_id)
    expect(page.locator(".traj-title")).to_have_text("Deduplicate the corpus")
    expect(page.locator(".traj-stats")).to_contain_text("1 steps")

    edit = ev.action(trajectory_id, 1, "edit_file", {"path": "dedup.py", "start": 1}, "Fix it.")
    push_event(edit)
    step = page.locator("#step-1")
    expect(step.locator(".tool")).to_have_text("edit_file")
    expect(step.locator(".args")).to_contain_text("dedup.py")
    expect(page.locator(".traj-stats")).to_contain_text("2 steps")
    push_event(ev.observation(edit, message="Edited dedup.py lines 1-1."))
    expect(step.locator(".observation.ok")).to_contain_text("Edited dedup.py lines 1-1.")
    expect(page.locator(".file-changes")).to_contain_text("dedup.py")

    run = ev.action(trajectory_id, 2, arguments={"command": "python dedup.py", "session": "work"})
    push_event(run)
    push_event(ev.observation(run, output="kept 91% of documents", success=False, message="Exit 1"))
    expect(page.locator("#step-2 .observation.fail .output")).to_have_text("kept 91% of documents")
    session = page.locator(".session[data-session='work']")
    expect(session.locator(".terminal-command")).to_have_text("$ python dedup.py")
    expect(session.locator(".terminal-output")).to_have_text("kept 91% of documents")


def test_the_sample_trajectory_renders_every_panel(
    page: Page, create_user, log_in, trajectory_id: str, tmp_path: Path
) -> None:
    log_in(create_user("alice"))
    open_trajectory(page, trajectory_id)
    expect(page.locator(".timeline .step")).to_have_count(8)
    expect(page.locator(".guidance.kind-correction .delivery")).to_have_text(
        "✓ Delivered into the prompt of step 4"
    )
    expect(page.locator("#step-4 .delivered")).to_contain_text("Do not run this inference script")
    expect(page.locator("#step-3 .badge.flagged")).to_have_text("flagged by alice")
    expect(page.locator(".ended")).to_contain_text("final score 63.0")
    expect(page.locator(".session")).to_have_count(3)
    expect(page.locator(".file-changes")).to_contain_text("scripts/filter.py")
    page.screenshot(path=tmp_path / "trajectory.png")
    print(f"screenshot: {tmp_path / 'trajectory.png'}")


def test_search_jumps_between_highlighted_matches(
    page: Page, create_user, log_in, trajectory_id: str
) -> None:
    log_in(create_user("alice"))
    open_trajectory(page, trajectory_id)
    page.keyboard.press("/")
    search = page.get_by_label("Search the timeline")
    expect(search).to_be_focused()
    search.fill("inference")

    marks = page.locator(".timeline mark")
    count = marks.count()
    assert count >= 3
    expect(page.locator(".search-count")).to_have_text(f"1/{count}")
    expect(marks.nth(0)).to_have_class("current")
    search.press("Enter")
    expect(page.locator(".search-count")).to_have_text(f"2/{count}")
    expect(marks.nth(1)).to_have_class("current")
    expect(marks.nth(1)).to_be_in_viewport()
    search.press("Shift+Enter")
    search.press("Shift+Enter")
    expect(page.locator(".search-count")).to_have_text(f"{count}/{count}")  # wraps around

    search.press("Escape")
    expect(marks).to_have_count(0)
    expect(page.locator("#step-3 .assistant")).to_have_text(
        "Score the raw corpus with the inference script meanwhile."
    )


def test_attention_heartbeats_are_sent_while_the_trajectory_is_on_screen(
    page: Page, create_user, log_in, trajectory_id: str, gateway
) -> None:
    page.clock.install()
    log_in(create_user("alice"))
    open_trajectory(page, trajectory_id)
    page.bring_to_front()
    page.clock.run_for(31_000)  # two 15-second periods on the page's fake clock
    expected = [AttentionTotal("alice", trajectory_id, 30.0)]
    deadline = time.monotonic() + 3
    while gateway.call(gateway.attention.totals()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gateway.call(gateway.attention.totals()) == expected
