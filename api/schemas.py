"""API schemas (apart from the table models): what each endpoint returns, for OpenAPI and clients."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from search.types import SearchResponse, SummaryResult

# Listings page in SQL: an offset past any real library is refused, not sent to the database.
MAX_PAGE_OFFSET = 10**9


# A search's and a summary's answers are the dataclasses the services return (search/types.py):
# one definition for the API, the CLI's --json and the web pages.
SearchOut = SearchResponse
SummaryOut = SummaryResult


class VideoOut(BaseModel):
    video_id: str
    path: str
    title: str
    duration: float | None
    status: str
    error: str | None
    segments: int
    has_speech: bool
    paths: list[str]


class VideosOut(BaseModel):
    videos: list[VideoOut]
    total: int


class SegmentOut(BaseModel):
    index: int
    start: float
    end: float
    transcript: str
    tags: str
    thumbnail_url: str
    seen: str = Field(default="", description="What it shows, in the words the web UI uses.")
    people: list[str] = Field(default_factory=list, description='e.g. ["a few people"]')
    on_screen: list[str] = Field(default_factory=list, description="Text read on screen (OCR).")


class VideoDetailOut(VideoOut):
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str | None
    audio_codec: str | None
    segment_list: list[SegmentOut]


class JobOut(BaseModel):
    job_id: int
    path: str
    status: str
    stage: str
    progress: float
    video_id: str | None
    error: str | None
    note: str | None
    attempts: int


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


class UserOut(BaseModel):
    user_id: int
    name: str
    role: str
    has_token: bool
    created_at: str


class UserCreatedOut(UserOut):
    token: str = Field(description="The API token: shown this once, stored only hashed.")


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


class EventOut(BaseModel):
    event_id: int
    user_id: int
    video_id: str
    title: str | None
    kind: str
    position: float | None
    client_event_id: str | None
    at: str


class EventRecordedOut(EventOut):
    created: bool = Field(description="False: the same client event id was stored before.")


class HistoryOut(BaseModel):
    events: list[EventOut]


class RecommendationOut(BaseModel):
    video_id: str
    path: str
    title: str
    score: float
    reason: str = Field(description='Why, for people: "because you watched X", "new", ...')
    reason_kind: str = Field(description="content, co-watch, popular, new or library")
    because_video_id: str | None = Field(description="The user's own video the reason names.")


class RecommendationsOut(BaseModel):
    results: list[RecommendationOut]


class ContinueOut(BaseModel):
    video_id: str
    path: str
    title: str
    position: float = Field(description="Seconds to resume from.")
    duration: float | None
    progress: float | None
    at: str


class ContinueListOut(BaseModel):
    results: list[ContinueOut]


class ErrorOut(BaseModel):
    detail: str
    code: str | None = None
