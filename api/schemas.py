"""API schemas (apart from the table models): what each endpoint returns, for OpenAPI and clients."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.answers import (
    ContinueView,
    EventView,
    JobView,
    SegmentView,
    UserView,
    VideoDetailView,
    VideoView,
)
from recommender.types import Recommendation
from search.types import SearchResponse, SummaryResult

# Listings page in SQL: an offset past any real library is refused, not sent to the database.
MAX_PAGE_OFFSET = 10**9


# A search's and a summary's answers are the dataclasses the services return (search/types.py):
# one definition for the API, the CLI's --json and the web pages.
SearchOut = SearchResponse
SummaryOut = SummaryResult
# The catalog's answers likewise are core/answers.py's (the CLI prints the same dicts).
VideoOut = VideoView
SegmentOut = SegmentView
VideoDetailOut = VideoDetailView
JobOut = JobView
UserOut = UserView
EventOut = EventView
ContinueOut = ContinueView
RecommendationOut = Recommendation


class VideosOut(BaseModel):
    videos: list[VideoOut]
    total: int


class JobsOut(BaseModel):
    jobs: list[JobOut]
    total: int


class IngestIn(BaseModel):
    paths: list[Annotated[str, StringConstraints(min_length=1, max_length=4096)]] = Field(
        min_length=1, max_length=1000
    )


class IngestOut(BaseModel):
    jobs: list[JobOut]


class HealthOut(BaseModel):
    status: str
    videos: int
    mode: str


# --- users, events, recommendations ----------------------------------------------------------------


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    admin: bool = Field(default=False, description="May also create users over HTTP.")


class UserCreatedOut(UserView):
    token: Annotated[str, Field(description="The API token: shown this once, stored only hashed.")]


class EventIn(BaseModel):
    """A watch event of the token's user. Checked as a whole: a refused event changes nothing."""

    model_config = ConfigDict(extra="forbid")

    video_id: str = Field(max_length=4096)
    kind: str = Field(
        max_length=4096,
        description="started (or watched), progress, completed, liked, disliked, skipped",
    )
    position: float | None = Field(
        default=None,
        description="Seconds into the video, 0 to its duration; a progress event needs one.",
    )
    client_event_id: str | None = Field(
        default=None,
        max_length=4096,
        description="An id of the client's own: an event sent again with it is stored once.",
    )


class EventRecordedOut(EventView):
    created: Annotated[
        bool, Field(description="False: the same client event id was stored before.")
    ]


class HistoryOut(BaseModel):
    events: list[EventOut]


class RecommendationsOut(BaseModel):
    results: list[RecommendationOut]


class ContinueListOut(BaseModel):
    results: list[ContinueOut]


class ErrorOut(BaseModel):
    detail: str
    code: str | None = None
