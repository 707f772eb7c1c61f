"""A page of another origin cannot ride the signed-in admin's cookie to change anything."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trajectory_events as ev
from playwright.sync_api import Page
from served_gateway import ServedGateway

from apollo.v1 import events_pb2 as pb
from services.eventlog.topics import TRAJECTORIES

pytestmark = pytest.mark.timeout(30)
# A bodiless POST needs no preflight even in no-cors mode, and cancel takes an optional body;
# loopback on another port is the same site, so the browser sends the cookie along.
POST = """async ([url, mode]) => {
  const reply = await fetch(url, {method: "POST", mode, credentials: "include"});
  return reply.status;
}"""


@pytest.fixture
def other_origin() -> Iterator[ServedGateway]:
    served = ServedGateway().start()
    yield served
    served.stop()


def cancellations(gateway: ServedGateway) -> list[str]:
    events = [pb.Event.FromString(r.value) for r in gateway.bus.records(TRAJECTORIES.name)]
    return [e.trajectory_id for e in events if e.HasField("trajectory_cancelled")]


def test_a_forged_cancel_from_another_origin_is_refused(
    page: Page, gateway, create_user, push_event, log_in, other_origin
) -> None:
    forged, own = ev.new_trajectory_id(), ev.new_trajectory_id()
    push_event(ev.started(forged))
    push_event(ev.started(own))
    log_in(create_user("root", "admin"))

    page.goto(f"{other_origin.url}/healthz")
    page.evaluate(POST, [f"{gateway.url}/api/trajectories/{forged}/cancel", "no-cors"])
    page.goto(f"{gateway.url}/healthz")
    status = page.evaluate(POST, [f"{gateway.url}/api/trajectories/{own}/cancel", "same-origin"])

    assert status == 202
    assert cancellations(gateway) == [own]
