"""The HTTP API under /api: thin translations between JSON and the gateway's commands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from apollo.v1 import events_pb2 as pb
from services.gateway import metrics, views
from services.gateway.control import GuidanceRequest, LabelRequest, StartRequest
from services.gateway.http_auth import SESSION_COOKIE, authenticate, channel, require
from services.gateway.http_models import (
    AttentionIn,
    AttentionOut,
    CancelIn,
    EventId,
    GuidanceIn,
    Me,
    Problem,
    SessionLogin,
    StartIn,
    StepLabelIn,
    TrajectoryDetail,
    TrajectoryId,
    TrajectorySummary,
    TrajectoryVerdictsOut,
)
from services.gateway.users import Role, User
from services.gateway.verdicts import TrajectoryVerdicts

router = APIRouter(prefix="/api")
Viewer = Annotated[User, Depends(require(Role.VIEWER))]
Annotator = Annotated[User, Depends(require(Role.ANNOTATOR))]
Admin = Annotated[User, Depends(require(Role.ADMIN))]
# Session cookies last a working day; the token itself does not expire.
COOKIE_MAX_AGE_S = 12 * 3600


def _gateway(request: Request):
    return request.app.state.gateway


@router.post("/session", status_code=status.HTTP_204_NO_CONTENT)
async def login(body: SessionLogin, request: Request, response: Response) -> None:
    """Set the HttpOnly session cookie for a valid token."""
    await authenticate(request, body.token)
    response.set_cookie(
        SESSION_COOKIE,
        body.token,
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=_gateway(request).secure_cookie,
    )


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
async def logout(response: Response) -> None:
    """Clear the session cookie."""
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me")
async def me(user: Viewer) -> Me:
    """The caller's name and role."""
    return Me(name=user.name, role=user.role.value)


@router.get("/trajectories")
async def list_trajectories(user: Viewer, request: Request) -> list[TrajectorySummary]:
    """Trajectories, most recent activity first, with drift signals and watchers."""
    gateway = _gateway(request)
    rows = await gateway.archive.trajectories(limit=200)
    return [views.summary(row, gateway.live, gateway.presence) for row in rows]


@router.get("/trajectories/{trajectory_id}", responses={404: {"description": "Unknown id"}})
async def get_trajectory(trajectory_id: str, user: Viewer, request: Request) -> TrajectoryDetail:
    """One trajectory: summary, every event in log order, sessions and file changes."""
    gateway = _gateway(request)
    row = await gateway.archive.trajectory(trajectory_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no trajectory {trajectory_id!r}")
    events = [record.event for record in await gateway.archive.events(trajectory_id)]
    return views.detail(row, events, gateway.live, gateway.presence)


@router.get(
    "/trajectories/{trajectory_id}/verdicts",
    responses={404: {"description": "Unknown id, or a ruleset version that did not judge it"}},
)
async def get_verdicts(
    trajectory_id: str,
    user: Viewer,
    request: Request,
    ruleset: Annotated[
        str | None, Query(max_length=200, description="A ruleset version; the newest if absent")
    ] = None,
) -> TrajectoryVerdictsOut:
    """The verdicts of one ruleset version on the trajectory, and the versions that judged it."""
    gateway = _gateway(request)
    if await gateway.archive.trajectory(trajectory_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no trajectory {trajectory_id!r}")
    records = await gateway.archive.events(trajectory_id)
    return TrajectoryVerdicts(records).as_json(ruleset or None)


@router.post(
    "/trajectories/{trajectory_id}/labels",
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "Unknown id, or no action at that step"}},
)
async def label_step(
    trajectory_id: str, body: StepLabelIn, user: Annotator, request: Request
) -> EventId:
    """Label a step keep or mask, for calibrating the judge (the newest label wins)."""
    command = LabelRequest(
        trajectory_id=trajectory_id,
        annotator=user.name,
        step_index=body.step_index,
        label=body.label,
        note=body.note,
    )
    return EventId(event_id=await _gateway(request).control.label_step(command))


@router.post(
    "/trajectories/{trajectory_id}/guidance",
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "Unknown id"}, 409: {"description": "Already ended"}},
)
async def submit_guidance(
    trajectory_id: str, body: GuidanceIn, user: Annotator, request: Request
) -> EventId:
    """Queue guidance for the next step boundary (and/or flag steps as wrong)."""
    command = GuidanceRequest(
        trajectory_id=trajectory_id,
        annotator=user.name,
        text=body.text,
        kind=body.kind,
        flag_steps=tuple(body.flag_steps),
        channel=channel(request),
    )
    return EventId(event_id=await _gateway(request).control.submit_guidance(command))


@router.post(
    "/trajectories/{trajectory_id}/attention",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "Unknown id"}},
)
async def record_attention(
    trajectory_id: str, body: AttentionIn, user: Annotator, request: Request
) -> None:
    """Add a heartbeat's seconds to the caller's attention time on the trajectory."""
    gateway = _gateway(request)
    if await gateway.live.state(trajectory_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no trajectory {trajectory_id!r}")
    await gateway.attention.add(user.name, trajectory_id, body.seconds)
    metrics.ATTENTION_SECONDS.labels(user.name).inc(body.seconds)


@router.get("/attention")
async def attention_totals(user: Viewer, request: Request) -> list[AttentionOut]:
    """Attention seconds per annotator per trajectory."""
    totals = await _gateway(request).attention.totals()
    return [
        AttentionOut(annotator=t.annotator, trajectory_id=t.trajectory_id, seconds=t.seconds)
        for t in totals
    ]


@router.post(
    "/trajectories",
    status_code=status.HTTP_201_CREATED,
    responses={422: {"model": Problem, "description": "Unknown task, bad policy or bad body"}},
)
async def start_trajectory(body: StartIn, user: Admin, request: Request) -> TrajectoryId:
    """Start a trajectory on a task with the task's budgets (or fewer steps)."""
    command = StartRequest(
        task_id=body.task_id,
        policy=body.policy,
        started_by=user.name,
        budgets=pb.Budgets(max_steps=body.max_steps or 0),
        task_seed=body.task_seed,
    )
    return TrajectoryId(trajectory_id=await _gateway(request).control.start(command))


@router.post(
    "/trajectories/{trajectory_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "Unknown id"}, 409: {"description": "Already ended"}},
)
async def cancel_trajectory(
    trajectory_id: str, user: Admin, request: Request, body: CancelIn | None = None
) -> EventId:
    """Ask a running trajectory to stop."""
    reason = body.reason if body else ""
    event_id = await _gateway(request).control.cancel(trajectory_id, user.name, reason)
    return EventId(event_id=event_id)
