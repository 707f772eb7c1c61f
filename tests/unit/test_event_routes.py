"""Each service's routing table: it names real event kinds and covers what the service reads."""

from __future__ import annotations

import pytest

from apollo.v1 import events_pb2 as pb
from services.policy.handlers import ROUTES as POLICY_ROUTES
from services.runtime.routing import EventRoutes, UnknownEventKind
from services.sandbox.handlers import ROUTES as SANDBOX_ROUTES
from services.summarizer.handlers import ROUTES as SUMMARIZER_ROUTES
from services.trajectory.fold import LOG_KINDS


async def _record(seen: list[str], event: pb.Event) -> None:
    seen.append(event.event_id)


def test_a_table_naming_no_event_family_is_refused() -> None:
    with pytest.raises(UnknownEventKind, match="action_proposd"):
        EventRoutes({"action_proposd": _record})


async def test_events_of_kinds_the_table_does_not_name_pass_by() -> None:
    routes = EventRoutes({"guidance_submitted": _record})
    seen: list[str] = []
    await routes.route(seen, pb.Event(event_id="g", guidance_submitted=pb.GuidanceSubmitted()))
    await routes.route(seen, pb.Event(event_id="a", action_proposed=pb.ActionProposed()))
    assert seen == ["g"]


@pytest.mark.parametrize("routes", [POLICY_ROUTES, SUMMARIZER_ROUTES], ids=["policy", "summarizer"])
def test_the_model_services_fold_every_kind_of_the_trajectory_log(routes) -> None:
    assert routes.kinds == LOG_KINDS


def test_the_sandbox_routes_the_start_its_actions_guidance_and_the_cancel() -> None:
    assert SANDBOX_ROUTES.kinds == {
        "trajectory_started",
        "action_proposed",
        "guidance_submitted",
        "trajectory_cancelled",
    }
