"""The shape of each catalog answer a front end shows: a video, its segments, a job, a user, an
event, a video to continue. One definition: the repository and service functions build them
(plain dicts at run time), the CLI's ``--json`` prints them, and the API's schema is them
(api/schemas.py), so a key cannot be added to one and forgotten in the other.

A key marked ``exclude`` is shown by the CLI and left out of the API's answer."""

from __future__ import annotations

from typing import (
    Annotated,
    NotRequired,  # pydantic reads typing's only from 3.12
)

from pydantic import Field
from typing_extensions import TypedDict


class VideoView(TypedDict):
    video_id: str
    path: str
    title: str
    duration: float | None
    status: str
    error: str | None
    segments: int
    has_speech: bool
    paths: list[str]


class SegmentView(TypedDict):
    index: int
    start: float
    end: float
    transcript: str
    tags: str
    seen: Annotated[str, Field(description="What it shows, in the words the web UI uses.")]
    looks: Annotated[list[str], Field(exclude=True)]
    people: Annotated[list[str], Field(description='e.g. ["a few people"]')]
    on_screen: Annotated[list[str], Field(description="Text read on screen (OCR).")]
    # Added by the API, which knows its own routes.
    thumbnail_url: NotRequired[str]


class VideoDetailView(VideoView):
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str | None
    audio_codec: str | None
    segment_list: list[SegmentView]


class JobView(TypedDict):
    job_id: int
    path: str
    status: str
    stage: str
    progress: float
    video_id: str | None
    error: str | None
    note: str | None
    attempts: int
    duplicate_of: Annotated[int | None, Field(exclude=True)]


class UserView(TypedDict):
    user_id: int
    name: str
    role: str
    has_token: bool
    has_password: Annotated[bool, Field(exclude=True)]
    created_at: str


class EventView(TypedDict):
    event_id: int
    user_id: int
    video_id: str
    title: str | None
    kind: str
    position: float | None
    client_event_id: str | None
    at: str


class ContinueView(TypedDict):
    video_id: str
    path: str
    title: str
    position: Annotated[float, Field(description="Seconds to resume from.")]
    duration: float | None
    progress: float | None
    at: str
