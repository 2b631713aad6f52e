"""API schemas (apart from the table models): what each endpoint returns, for OpenAPI and clients."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

# Listings page in SQL: an offset past any real library is refused, not sent to the database.
MAX_PAGE_OFFSET = 10**9


class MomentOut(BaseModel):
    start: float
    end: float
    score: float
    text: str
    segment: int


class ResultOut(BaseModel):
    video_id: str
    path: str
    title: str
    score: float
    moments: list[MomentOut]


class SearchOut(BaseModel):
    results: list[ResultOut]
    cut_off: bool = Field(description="True when nothing in the library is a confident match.")
    total: int


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


class VideoDetailOut(VideoOut):
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str | None
    audio_codec: str | None
    segment_list: list[SegmentOut]


class SummaryOut(BaseModel):
    video_id: str
    summary: str
    method: str = Field(description='"bart", or "extractive" when no BART checkpoint is on disk.')
    model: str


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
