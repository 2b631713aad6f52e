"""The catalog schema (SQLAlchemy 2): the source of truth that the vector index is rebuilt from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from core.names import name_key


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(ts: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already (the catalog's)."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A ``DateTime(timezone=True)`` column whose values are always aware and in UTC.

    SQLite keeps no zone and hands back naive datetimes (the catalog writes them as UTC);
    PostgreSQL hands back the session's zone. Reading every time column through this one type
    gives every reader the same aware UTC instant, so none has to mend what it read. The
    database column is unchanged: no migration."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        # SQLite stores the wall time it is given: only UTC wall times compare right.
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    pass


class VideoStatus:
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class JobStatus:
    QUEUED = "queued"
    RUNNING = "running"
    # Stopped by a person (Ctrl-C, SIGTERM) part way; its video went back to pending, and the
    # next ingest, API start or worker takes it up again.
    INTERRUPTED = "interrupted"
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"  # nothing to do: the same bytes are indexed already, or by another job
    FAILED = "failed"

    FINISHED = (SUCCEEDED, SKIPPED, FAILED)
    RESUMABLE = (QUEUED, RUNNING, INTERRUPTED)


class Video(Base):
    __tablename__ = "videos"

    # The first 16 hex digits of the content's sha256: stable across backends and rebuilds.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source_path: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    duration: Mapped[float | None] = mapped_column(Float)
    fps: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    container: Mapped[str | None] = mapped_column(String(64))
    video_codec: Mapped[str | None] = mapped_column(String(64))
    audio_codec: Mapped[str | None] = mapped_column(String(64))
    has_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    has_speech: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=VideoStatus.PENDING, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    # The pending space this video's segments have next vectors for (None: not re-embedded yet).
    next_embedding_model: Mapped[str | None] = mapped_column(String(200))
    # Bumped at every commit of segments; carried in the vector payload so sync can tell stale points.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # The job that is processing this video now; a second job for the same bytes backs off.
    claimed_by_job: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    indexed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    paths: Mapped[list[VideoPath]] = relationship(
        back_populates="video", cascade="all, delete-orphan"
    )
    segments: Mapped[list[Segment]] = relationship(
        back_populates="video", cascade="all, delete-orphan", order_by="Segment.index"
    )


class VideoPath(Base):
    """Every path under which a video's bytes were seen (same content, several names)."""

    __tablename__ = "video_paths"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    video: Mapped[Video] = relationship(back_populates="paths")


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("video_id", "index", name="uq_segments_video_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    shot_index: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    thumbnail: Mapped[str | None] = mapped_column(Text)  # relative to the thumbnails folder
    transcript: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")  # visual tags, comma separated
    caption: Mapped[str] = mapped_column(
        Text, default=""
    )  # transcript + tags: what text search reads
    n_clips: Mapped[int] = mapped_column(Integer)
    # Vectors as little-endian float32 (clip features float16), so the index can be rebuilt from here.
    video_vector: Mapped[bytes] = mapped_column(LargeBinary)
    text_vector: Mapped[bytes] = mapped_column(LargeBinary)
    clip_features: Mapped[bytes] = mapped_column(LargeBinary)
    # The frame classifier's likely classes (core/beliefs.py), for the concept signal; NULL for
    # segments indexed before it existed.
    class_beliefs: Mapped[str | None] = mapped_column(Text)
    # How its frames look (core/looks.py: dark, black and white, colours), for the looks signal.
    looks: Mapped[str | None] = mapped_column(Text)
    # Text read on screen in its frames (OCR), one line per read line; NULL: never read (indexed
    # before it existed, or with VIDSEARCH_SCREEN_TEXT off), "" read and found nothing.
    screen_text: Mapped[str | None] = mapped_column(Text)
    # Faces and people seen (core/people.py, JSON); NULL: never looked for.
    people: Mapped[str | None] = mapped_column(Text)
    # The same segment in the pending space (a re-embed for a newly trained model): swapped in
    # for every ready video at once, so search never mixes two spaces.
    next_video_vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    next_text_vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The clips' features by the pending space's vision model, when it is another one.
    next_clip_features: Mapped[bytes | None] = mapped_column(LargeBinary)

    video: Mapped[Video] = relationship(back_populates="segments")


class SpaceRole:
    ACTIVE = "active"  # the space of every ready video's vectors (name NULL: as configured)
    PENDING = "pending"  # the space being filled by re-embedding, swapped in when complete


class EmbeddingSpace(Base):
    """Which model's vectors the catalog holds ('active') and is filling ('pending')."""

    __tablename__ = "embedding_spaces"

    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))  # the embedder's name
    checkpoint: Mapped[str | None] = mapped_column(Text)  # relative to VIDSEARCH_HOME
    # The vision-language model whose pictures the space's clips are read by (a folder or a hub
    # id); None: the shipped EfficientNet-Lite0. A pending space that differs here from the
    # active one is filled by decoding the videos again (services/model_switch.py).
    vision_model: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), default="ingest")
    path: Mapped[str] = mapped_column(Text)
    video_id: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED, index=True)
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Written with progress; a running job whose heartbeat is old belongs to a dead worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who runs the job (or, while it is queued in the embedded mode, who will): host, process id
    # and the process's start time, so a dead owner on this host is seen at once (a reused pid
    # has another start time); from another host, by its lease running out (core/job_claims.py).
    runner_host: Mapped[str | None] = mapped_column(String(255))
    runner_pid: Mapped[int | None] = mapped_column(Integer)
    runner_started: Mapped[int | None] = mapped_column(BigInteger)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A skipped job whose bytes another job was indexing: the one to wait for.
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    # Asked for over HTTP: its file must lie under the HTTP roots when it runs, not only when
    # it was asked for (a symlink swapped in between is caught).
    confined: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Served mode: when the job was last handed to the task queue (None: never), so that jobs
    # a restarted broker forgot, or that were never sent, can be sent again.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserRole:
    ADMIN = "admin"  # may ingest, delete and train as well
    USER = "user"  # may search, watch and see its own history

    ALL = (ADMIN, USER)


class User(Base):
    __tablename__ = "users"
    # A unique index rather than a constraint, as migration 0007 adds it in place on SQLite.
    __table_args__ = (Index("uq_users_name_key", "name_key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The name as names are compared (core.users.name_key: NFKC, case folded, invisible
    # characters gone), unique, so "BOSS" or "bo\u200bss" cannot stand beside "boss".
    name_key: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(
        String(16), default=UserRole.USER, server_default=UserRole.USER
    )
    # sha256 of the API token, hex; the token itself is shown once and never stored. NULL: no
    # token issued yet (a user the local CLI created on first use), so no HTTP access.
    token_hash: Mapped[str | None] = mapped_column(String(64))
    # argon2id hash of the web UI password (core/passwords.py); NULL: none set.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @validates("name")
    def _keep_key(self, _field: str, value: str) -> str:
        self.name_key = name_key(value)
        return value


class WebSession(Base):
    """A signed-in browser of the web UI (core/web_sessions.py): the cookie names the row and
    carries a secret whose sha256 is kept here; signing out deletes the row."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    # How the browser signed in: "password", "token", or "local" (a profile picked on the
    # machine's own loopback server, which trusts its owner).
    method: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EventKind:
    STARTED = "started"
    PROGRESS = "progress"  # position: seconds into the video
    COMPLETED = "completed"
    LIKED = "liked"
    DISLIKED = "disliked"
    SKIPPED = "skipped"

    ALL = (STARTED, PROGRESS, COMPLETED, LIKED, DISLIKED, SKIPPED)
    PLAYBACK = (STARTED, PROGRESS, COMPLETED)  # where the player is, as opposed to a verdict


class Event(Base):
    """A watch event: started / progress / completed / liked / disliked / skipped."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_user_time", "user_id", "created_at"),
        # A client retrying an event sends the same id; NULLs never collide, so events without
        # one are always stored. A unique index rather than a constraint: SQLite adds an index in
        # place, while a constraint would copy the whole events table.
        Index("uq_events_user_client_event", "user_id", "client_event_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    position: Mapped[float | None] = mapped_column(Float)
    client_event_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    video: Mapped[Video] = relationship()


class Summary(Base):
    __tablename__ = "summaries"
    __table_args__ = (
        UniqueConstraint("video_id", "model", "content_hash", name="uq_summaries_video_model_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
