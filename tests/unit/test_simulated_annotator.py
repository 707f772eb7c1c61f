"""The simulated annotator steps in with the task's hints only when drift is flagged."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from services.cli.simulated_annotator import SimulatedAnnotator, hints_of

pytestmark = pytest.mark.timeout(10)


class FakeGateway:
    """Plays a scripted sequence of trajectory summaries and records guidance posts."""

    def __init__(self, summaries: list[dict]) -> None:
        self.summaries = summaries
        self.guidance: list[dict] = []
        self.attention: list[float] = []
        self.authorization: set[str] = set()

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.authorization.add(request.headers["authorization"])
        if request.url.path.endswith("/attention"):
            self.attention.append(json.loads(request.content)["seconds"])
            return httpx.Response(204)
        if request.method == "POST":
            self.guidance.append(json.loads(request.content))
            return httpx.Response(202, json={"event_id": "e"})
        summary = self.summaries.pop(0) if len(self.summaries) > 1 else self.summaries[0]
        return httpx.Response(200, json={"summary": summary})


def summary(steps: int, attention: bool, status: str = "running") -> dict:
    reasons = ["3 failing actions in a row"] if attention else []
    return {"status": status, "steps": steps, "needs_attention": attention,
            "attention_reasons": reasons}  # fmt: skip


async def test_hints_go_out_one_by_one_while_drift_is_flagged() -> None:
    gateway = FakeGateway(
        [
            summary(1, False),
            summary(3, True),  # drift: first hint
            summary(4, True),  # too soon for another
            summary(5, True),  # two steps later: second hint
            summary(6, False),
            summary(7, True, status="finished"),
        ]
    )
    annotator = SimulatedAnnotator(
        "http://gateway", "apo_t", "t1", ["first", "second", "third"], poll_s=0,
        transport=httpx.MockTransport(gateway.handle),
    )  # fmt: skip
    assert await annotator.run() == 2
    assert [g["text"] for g in gateway.guidance] == ["first", "second"]
    assert gateway.authorization == {"Bearer apo_t"}


async def test_the_time_it_watches_goes_to_the_gateway_as_attention_heartbeats() -> None:
    gateway = FakeGateway([summary(1, False), summary(2, False), summary(3, False, "finished")])
    annotator = SimulatedAnnotator(
        "http://gateway", "apo_t", "t1", ["first"], poll_s=0.05,
        transport=httpx.MockTransport(gateway.handle),
    )  # fmt: skip
    assert await annotator.run() == 0
    # A heartbeat after each wait between polls: two waits between the three polls.
    assert len(gateway.attention) == 2
    assert all(0.04 <= seconds <= 1.0 for seconds in gateway.attention)


def test_hints_are_the_bullets_of_hints_md(tmp_path: Path) -> None:
    hints = tmp_path / "hints.md"
    hints.write_text("# Hints\n\n- Normalize first.\n- Junk has few vowels.\nprose\n-  \n")
    assert hints_of(hints) == ["Normalize first.", "Junk has few vowels."]
