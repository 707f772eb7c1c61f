"""The trajectory list: signing in, and rows that follow the agents live."""

from __future__ import annotations

import pytest
import trajectory_events as ev
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(20)


def test_a_bad_token_is_refused_and_a_good_one_signs_in(page: Page, create_user) -> None:
    token = create_user("alice", "annotator")
    page.goto("/")
    page.get_by_label("API token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That token is not valid.")

    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#whoami")).to_have_text("alice · annotator")
    expect(page.get_by_role("heading", name="Trajectories")).to_be_visible()


def test_the_list_shows_trajectories_and_counts_steps_live(
    page: Page, create_user, push_event, log_in
) -> None:
    trajectory_id = ev.new_trajectory_id()
    push_event(ev.started(trajectory_id, task_id="dedup-corpus"))
    first = ev.action(trajectory_id, 0, arguments={"command": "ls", "session": "main"})
    push_event(first)
    log_in(create_user("alice"))

    row = page.locator(f"tr[data-trajectory-id='{trajectory_id}']")
    expect(row).to_contain_text("dedup-corpus")
    expect(row.locator(".status-pill")).to_have_text("running")
    expect(row.locator(".steps")).to_have_text("1")

    page.evaluate("window.__sameDocument = true")  # disappears if the page reloads
    push_event(ev.observation(first, success=False, message="No such file."))
    for step in (1, 2):
        failing = ev.action(trajectory_id, step, arguments={"command": f"ls {step}"})
        push_event(failing)
        expect(row.locator(".steps")).to_have_text(str(step + 1))
        push_event(ev.observation(failing, success=False, message="No such file."))
    # The drift flag is the server's: it arrives with the refetch after live events.
    expect(row.locator(".attention-badge")).to_contain_text("3 failing actions in a row")
    assert page.evaluate("window.__sameDocument") is True


def test_the_list_shows_each_trajectorys_intervention_rate(
    page: Page, create_user, push_event, log_in
) -> None:
    trajectory_id = ev.new_trajectory_id()
    push_event(ev.started(trajectory_id))
    for step in range(4):
        push_event(ev.action(trajectory_id, step, arguments={"command": f"ls {step}"}))
    push_event(ev.guidance(trajectory_id, "Read the README first."))
    log_in(create_user("alice"))

    rate = page.locator(f"tr[data-trajectory-id='{trajectory_id}'] .intervention-rate")
    expect(rate).to_have_text("25.0")
    for step in range(4, 8):
        push_event(ev.action(trajectory_id, step, arguments={"command": f"ls {step}"}))
    expect(rate).to_have_text("12.5")  # the server's figure, with the refetch after events


def test_the_list_shows_who_is_watching(page: Page, create_user, push_event, log_in, browser):
    trajectory_id = ev.new_trajectory_id()
    push_event(ev.started(trajectory_id))
    log_in(create_user("alice"))

    other = browser.new_context(base_url=page.url.split("/#")[0])
    bob = other.new_page()
    bob.goto("/")
    bob.get_by_label("API token").fill(create_user("bob"))
    bob.get_by_role("button", name="Sign in").click()
    bob.goto(f"/#/trajectories/{trajectory_id}")
    expect(bob.locator(".traj-head .watchers")).to_contain_text("bob")

    row = page.locator(f"tr[data-trajectory-id='{trajectory_id}']")
    expect(row.locator(".watchers")).to_have_text("bob")
    other.close()
