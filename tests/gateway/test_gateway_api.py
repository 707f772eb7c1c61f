"""The HTTP API as the web app uses it: lists, history, guidance, attention, start, cancel."""

from __future__ import annotations

import pytest

from apollo.v1 import events_pb2 as pb
from services.tasks.packs import TaskCatalog
from services.tasks.starting import DEFAULT_SUMMARY_THRESHOLD
from services.tasks.tool_args import tool_specs

pytestmark = pytest.mark.timeout(30)


async def test_list_shows_rows_with_drift_and_watchers(wired, new_run) -> None:
    run = new_run()
    run.started()
    for _ in range(3):
        run.step(success=False, observed={"error_message": "boom"})
    await wired.record(run.events)
    await wired.gateway.live.load_running()
    async with wired.client("viewer") as client:
        [row] = (await client.get("/api/trajectories")).json()
    assert row["trajectory_id"] == run.trajectory_id
    assert (row["task_id"], row["status"], row["steps"]) == ("toy-task", "running", 3)
    assert row["needs_attention"] is True
    assert "3 failing actions in a row" in row["attention_reasons"]
    assert row["watchers"] == []


async def test_list_rows_carry_the_intervention_rate(wired, new_run) -> None:
    guided, waiting = new_run(), new_run()
    guided.started()
    waiting.started()
    for _ in range(8):
        guided.step()
    for _ in range(2):
        guided.event(pb.GuidanceSubmitted(text="look at the logs", annotator="ann"))
    await wired.record(guided.events + waiting.events)
    async with wired.client("viewer") as client:
        rows = (await client.get("/api/trajectories")).json()
    rates = {row["trajectory_id"]: row["guidance_per_100_steps"] for row in rows}
    assert rates == {guided.trajectory_id: 25.0, waiting.trajectory_id: None}


async def test_detail_has_events_sessions_and_file_changes(wired, new_run) -> None:
    run = new_run()
    run.started()
    run.step(
        "run_command",
        {"command": "make"},
        observed={"session": "s1", "output": "<b>ok</b>", "exit_code": 0},
    )
    run.step("create_file", {"path": "a.py", "content": "x"})
    run.step("edit_file", {"path": "b.py", "start": 1, "end": 1, "content": "y"}, success=False)
    await wired.record(run.events)
    async with wired.client("viewer") as client:
        detail = (await client.get(f"/api/trajectories/{run.trajectory_id}")).json()
        missing = await client.get("/api/trajectories/nope")
    assert [e["event_id"] for e in detail["events"]] == [e.event_id for e in run.events]
    assert detail["events"][0]["trajectory_started"]["task_id"] == "toy-task"
    assert detail["sessions"] == [
        {"session": "s1", "last_command": "make", "output": "<b>ok</b>", "idle": True}
    ]
    assert detail["file_changes"] == [{"step": 1, "path": "a.py", "tool": "create_file"}]
    assert missing.status_code == 404


async def test_guidance_publishes_guidance_submitted(wired, new_run) -> None:
    run = new_run()
    run.started()
    await wired.record(run.events)
    async with wired.client("annotator") as client:
        reply = await client.post(
            f"/api/trajectories/{run.trajectory_id}/guidance",
            json={
                "text": "Do not run this inference script.",
                "kind": "correction",
                "flag_steps": [4, 3],
            },
        )
    assert reply.status_code == 202
    [event] = wired.published()
    assert event.event_id == reply.json()["event_id"]
    assert event.trajectory_id == run.trajectory_id
    assert event.guidance_submitted == pb.GuidanceSubmitted(
        annotator="annotator-1",
        kind=pb.GUIDANCE_KIND_CORRECTION,
        text="Do not run this inference script.",
        flagged_step_indices=[3, 4],
        channel="api",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"text": "", "kind": "advice"},
        {"text": "   ", "flag_steps": []},
        {"text": "x" * 20_001},
        {"text": "hi", "kind": "shouting"},
        {"text": "hi", "flag_steps": [-1]},
        {"text": "hi", "surprise": True},
    ],
)
async def test_bad_guidance_is_422_and_publishes_nothing(wired, new_run, body) -> None:
    run = new_run()
    run.started()
    await wired.record(run.events)
    async with wired.client("annotator") as client:
        reply = await client.post(f"/api/trajectories/{run.trajectory_id}/guidance", json=body)
    assert reply.status_code == 422
    assert reply.json()["detail"]
    assert wired.published() == []


async def test_guidance_for_unknown_or_ended_trajectories(wired, new_run) -> None:
    run = new_run()
    run.started()
    run.ended()
    await wired.record(run.events)
    async with wired.client("annotator") as client:
        ended = await client.post(
            f"/api/trajectories/{run.trajectory_id}/guidance", json={"text": "hi"}
        )
        unknown = await client.post("/api/trajectories/nope/guidance", json={"text": "hi"})
    assert (ended.status_code, unknown.status_code) == (409, 404)
    assert "ended" in ended.json()["detail"]


async def test_attention_time_accumulates_per_annotator(wired, new_run) -> None:
    run = new_run()
    run.started()
    await wired.record(run.events)
    url = f"/api/trajectories/{run.trajectory_id}/attention"
    async with wired.client("annotator") as client:
        for seconds in (5, 5, 2.5):
            assert (await client.post(url, json={"seconds": seconds})).status_code == 204
        too_long = await client.post(url, json={"seconds": 61})
        unknown = await client.post("/api/trajectories/nope/attention", json={"seconds": 1})
        totals = (await client.get("/api/attention")).json()
    assert (too_long.status_code, unknown.status_code) == (422, 404)
    assert totals == [
        {"annotator": "annotator-1", "trajectory_id": run.trajectory_id, "seconds": 12.5}
    ]


async def test_admin_cancels_a_running_trajectory(wired, new_run) -> None:
    run = new_run()
    run.started()
    await wired.record(run.events)
    async with wired.client("admin") as client:
        cancel = await client.post(
            f"/api/trajectories/{run.trajectory_id}/cancel", json={"reason": "stuck"}
        )
    assert cancel.status_code == 202
    [event] = wired.published()
    assert event.trajectory_cancelled == pb.TrajectoryCancelled(
        requested_by="admin-1", reason="stuck"
    )


async def test_admin_starts_a_trajectory_on_a_task_pack(wired) -> None:
    pack = TaskCatalog().get("data-filtering-dedup")
    async with wired.client("admin") as client:
        reply = await client.post(
            "/api/trajectories",
            json={
                "task_id": "data-filtering-dedup",
                "policy": "anthropic:claude",
                "max_steps": 7,
                "task_seed": 1002,
            },
        )
    assert reply.status_code == 201
    [event] = wired.published()
    assert event.trajectory_id == reply.json()["trajectory_id"]
    assert event.source.service == "gateway"
    started = event.trajectory_started
    assert (started.task_id, started.task_title) == (pack.id, pack.manifest.title)
    assert started.task_description == pack.description
    assert list(started.tools) == tool_specs(pack.manifest.tools)
    assert started.budgets == pb.Budgets(
        max_steps=7,
        max_seconds=int(pack.manifest.budgets.hours * 3600),
        max_evals=pack.manifest.budgets.evals,
    )
    assert (started.policy.backend, started.policy.model) == ("anthropic", "claude")
    assert started.started_by == "admin-1"
    assert started.task_seed == 1002
    assert started.summary_threshold_tokens == DEFAULT_SUMMARY_THRESHOLD
    assert not started.scripted_calls


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"task_id": "no-such-task", "policy": "local"}, "unknown task"),
        ({"task_id": "data-filtering-dedup", "policy": "gpt"}, "use scripted:reference"),
        ({"task_id": "data-filtering-dedup", "policy": "openai:"}, "use scripted:reference"),
        ({"task_id": "data-filtering-dedup", "policy": "scripted:mine"}, "only script"),
        ({"task_id": "data-filtering-dedup", "policy": "local", "max_steps": 0}, "max_steps"),
        ({"task_id": "data-filtering-dedup", "policy": "local", "task_seed": -1}, "task_seed"),
    ],
)
async def test_bad_start_is_422_and_publishes_nothing(wired, body, says) -> None:
    async with wired.client("admin") as client:
        reply = await client.post("/api/trajectories", json=body)
    assert reply.status_code == 422
    assert says in str(reply.json()["detail"])
    assert wired.published() == []


async def test_operational_routes_and_security_headers(wired, tmp_path) -> None:
    wired.gateway.static_dir = tmp_path
    (tmp_path / "index.html").write_text("<h1>Apollo</h1>")
    (tmp_path / "app.js").write_text("1;")
    async with wired.client() as client:
        index = await client.get("/")
        script = await client.get("/static/app.js")
        health = await client.get("/healthz")
        await client.get("/api/me")
        scrape = await client.get("/metrics")
    assert index.text == "<h1>Apollo</h1>"
    assert script.text == "1;"
    assert "script-src 'self'" in index.headers["content-security-policy"]
    assert health.status_code == 200
    assert 'apollo_gateway_http_requests_total{route="/api/me",status="401"}' in scrape.text
