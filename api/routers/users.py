"""``/users`` and ``/events``: watch events, history, recommendations and continue watching, each
for the user whose API token comes with the request (api/auth.py); creating users (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.auth import Admin, CurrentUser, Owner
from api.deps import AppSettings, Svc
from api.schemas import (
    ContinueListOut,
    ErrorOut,
    EventIn,
    EventRecordedOut,
    HistoryOut,
    RecommendationsOut,
    UserCreatedOut,
    UserIn,
)
from services.recommendations import MAX_LIMIT, continue_watching, recommend
from services.users import HISTORY_MAX, add_user, history, record_event

router = APIRouter(tags=["users"])

_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No API token, or one that matches nobody"},
    404: {"model": ErrorOut, "description": "Another user's id (or one nobody has)"},
}


@router.post(
    "/users",
    response_model=UserCreatedOut,
    status_code=201,
    responses={
        401: _AUTH[401],
        403: {"model": ErrorOut, "description": "The token's user is not an admin"},
        409: {"model": ErrorOut, "description": "The name is taken"},
        422: {"model": ErrorOut, "description": "A name that cannot be stored"},
    },
)
def create_user(settings: AppSettings, _admin: Admin, body: UserIn) -> dict[str, Any]:
    """Create a user and return its API token, this once. Needs an admin's token: the first
    admin is made on the server's machine with `vidsearch user add NAME --admin`."""
    return add_user(settings, body.name, admin=body.admin)


@router.post(
    "/events",
    response_model=EventRecordedOut,
    status_code=201,
    responses={
        200: {"model": EventRecordedOut, "description": "Sent again: stored before, not again"},
        401: _AUTH[401],
        404: {"model": ErrorOut, "description": "No such video"},
        409: {"model": ErrorOut, "description": "The client event id was used for another event"},
        422: {"model": ErrorOut, "description": "A refused event, with the reason and its code"},
    },
)
def post_event(
    settings: AppSettings, user: CurrentUser, body: EventIn, response: Response
) -> dict[str, Any]:
    """Record a watch event of the token's user: 201 when stored, 200 when the same client event
    id was stored before (the first event is returned). A refused event changes nothing."""
    event = record_event(
        settings,
        user_id=user["user_id"],
        video_id=body.video_id,
        kind=body.kind,
        position=body.position,
        client_event_id=body.client_event_id,
    )
    if not event["created"]:
        response.status_code = 200
    return event


@router.get("/users/{user_id}/history", response_model=HistoryOut, responses=_AUTH)
def user_history(
    settings: AppSettings,
    user: Owner,
    limit: Annotated[int, Query(ge=1, le=HISTORY_MAX)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Events older than this event id.")
    ] = None,
) -> dict[str, Any]:
    """The user's events, newest first."""
    return {"events": history(settings, user_id=user["user_id"], limit=limit, before_id=before)}


@router.get("/users/{user_id}/recommendations", response_model=RecommendationsOut, responses=_AUTH)
def user_recommendations(
    svc: Svc, user: Owner, limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10
) -> dict[str, Any]:
    """What to watch next, best first, each with its reason; never a video in the history."""
    results = recommend(
        svc.settings, user_id=user["user_id"], limit=limit, recommender=svc.recommender
    )
    return {"results": results}


@router.get("/users/{user_id}/continue", response_model=ContinueListOut, responses=_AUTH)
def user_continue(
    svc: Svc, user: Owner, limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20
) -> dict[str, Any]:
    """Videos started and not finished, most recent first, with the position to resume from."""
    results = continue_watching(
        svc.settings, user_id=user["user_id"], limit=limit, recommender=svc.recommender
    )
    return {"results": results}
