"""The one settings class, read from VIDSEARCH_* environment variables and validated at start-up."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from platformdirs import user_data_dir
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as _SourceError

ENV_PREFIX = "VIDSEARCH_"


class SettingsError(ValueError):
    """A setting is unknown or has a bad value; the message names the variable and the reason."""


# Largest picture (width x height) read: a video's frames and a picture query alike.
MAX_FRAME_PIXELS = 50_000_000


class Settings(BaseSettings):
    """Every knob of vidsearch. Only settings differ between the embedded and the served mode."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    # --- where things live -------------------------------------------------------------------
    home: Path = Field(
        default_factory=lambda: Path(user_data_dir("vidsearch", appauthor=False)),
        description="Data folder: SQLite catalog, thumbnails, model caches, local vector index.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the catalog; default: SQLite under home."
    )
    qdrant_url: str | None = Field(
        default=None,
        description="Qdrant server URL; default: an in-process index synced from the catalog.",
    )
    qdrant_collection: str = Field(default="segments", pattern=r"^[A-Za-z0-9_-]+$")
    # A collection's layout is fixed when it is made: changing these takes a new collection.
    qdrant_shards: int = Field(
        default=1, ge=1, le=1024, description="Shards of each Qdrant collection (a cluster)."
    )
    qdrant_replication: int = Field(
        default=1, ge=1, le=16, description="Copies of each shard (2 on a cluster of three)."
    )
    qdrant_write_consistency: int = Field(
        default=1,
        ge=1,
        le=16,
        description="Replicas that must confirm a write before it counts (at most the "
        "replication factor).",
    )
    broker_url: str | None = Field(
        default=None, description="Celery broker (redis://...); default: tasks run in-process."
    )
    queue: str = Field(default="vidsearch", pattern=r"^[A-Za-z0-9_.-]+$")
    task_visibility_timeout: int = Field(
        default=3600, ge=1, description="Seconds before an unacknowledged task is redelivered."
    )
    worker_concurrency: int = Field(default=2, ge=1, le=64)
    stale_job_seconds: float = Field(
        default=30.0,
        ge=1,
        description="The lease of a running job: renewed while work goes on; a job whose lease "
        "ran out is taken over (on the same host a dead process is seen at once).",
    )

    # --- what may be ingested ------------------------------------------------------------------
    allowed_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="If set, only files under these folders are ingested. Unset: ingest over "
        "HTTP reads only home/videos (and uploads); the command line reads anywhere.",
    )
    max_file_bytes: int = Field(default=50 * 1024**3, gt=0)
    max_duration_seconds: float = Field(default=6 * 3600.0, gt=0)
    max_frame_pixels: int = Field(
        default=MAX_FRAME_PIXELS,
        ge=64 * 64,
        description="Largest picture (width x height) a video may declare, or a picture query "
        "may be; a larger one is refused before any pixel is decoded (a decompression bomb).",
    )

    # --- the HTTP API ------------------------------------------------------------------------
    auth: Literal["auto", "required", "off"] = Field(
        default="auto",
        description="API tokens: 'required' on every endpoint but /health; 'off' for local "
        "single-user use (no token acts as the owner); 'auto': off when the API is bound to "
        "127.0.0.1, ::1 or localhost, required otherwise.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins a browser may call the API from (CORS); unset: none.",
    )
    rate_limit_per_minute: int = Field(
        default=600,
        ge=0,
        description="Requests a minute per caller (a token's user, else the client address), "
        "in bursts of up to a sixth of it; 0: no limit.",
    )
    max_upload_bytes: int = Field(
        default=4 * 1024**3, gt=0, description="Largest video file accepted by an HTTP upload."
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names the API and the web UI answer to besides their own address "
        "(localhost, 127.0.0.1, [::1] on loopback), e.g. vidsearch.home.example; '*.example' "
        "allows subdomains. In local single-user mode every other Host is refused (DNS "
        "rebinding); with tokens required, only these are accepted once any is set.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks of reverse proxies whose X-Forwarded-For is "
        "believed (uvicorn's forwarded_allow_ips); unset: none, the peer's own address is the "
        "caller's (rate limits, logs).",
    )
    session_secret: str | None = Field(
        default=None,
        min_length=32,
        description="Key that signs web UI sign-in cookies; unset: a random key kept in "
        "home/secrets/session.key (shared by every process with the same home).",
    )
    session_days: float = Field(
        default=30.0, gt=0, le=400, description="How long a web UI sign-in lasts."
    )

    # --- segmentation and sampling -------------------------------------------------------------
    clip_seconds: float = Field(default=1.5, gt=0.1, le=10, description="VideoBERT clip length.")
    max_segment_seconds: float = Field(default=12.0, gt=0.5, le=600)
    analysis_fps: float = Field(
        default=4.0, gt=0.2, le=30, description="Frames/s for shot detection."
    )
    shot_threshold: float = Field(
        default=0.45, gt=0, lt=2, description="Histogram distance of a cut."
    )
    thumbnail_width: int = Field(default=320, ge=32, le=1920)

    # --- models --------------------------------------------------------------------------------
    device: Literal["auto", "cpu", "cuda"] = "auto"
    torch_threads: int = Field(default=0, ge=0, description="0: one per core.")
    text_model: str | None = Field(
        default=None, description="BERT folder; default: shipped MiniLM."
    )
    frame_model: str = Field(default="efficientnet-lite0")
    vision_model: str | None = Field(
        default=None,
        description="A CLIP, SigLIP or SigLIP 2 checkpoint (a folder, or a model id in the local "
        "Hugging Face cache; `vidsearch models pull ID` fetches one): its image tower embeds the "
        "clips, its text tower the queries. Unset: the shipped EfficientNet-Lite0 and VideoBERT.",
    )
    frame_batch_size: int = Field(default=16, ge=1, le=1024)
    whisper_model: str | None = Field(
        default=None, description="CTranslate2 Whisper folder; default: shipped tiny.en."
    )
    whisper_language: str | None = Field(default="en")
    transcribe: bool = True
    screen_text: bool = Field(
        default=True, description="Read the text shown on screen (OCR) while indexing."
    )
    people: bool = Field(
        default=True, description="Count the faces and people seen while indexing."
    )
    bridge_top_k: int = Field(default=5, ge=1, le=1000)
    bridge_temperature: float = Field(default=2.0, gt=0)
    tags_per_segment: int = Field(default=3, ge=0, le=20)
    tag_min_probability: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="How sure the frame classifier must be of a visual tag: a class, or the "
        "common ancestor of the classes it hesitates between ('cat', 'vehicle'), whose summed "
        "probability reaches this. Chosen on the dev set's tune part (bench/tags.py).",
    )

    # --- VideoBERT -------------------------------------------------------------------------------
    embedder: Literal["videobert", "bridge"] = Field(
        default="videobert",
        description="What makes the vectors: VideoBERT (trained checkpoint, else zero-shot) or "
        "the class-name bridge.",
    )
    video_input: Literal["continuous", "tokens"] = Field(
        default="continuous",
        description="VideoBERT's video input: each clip's features, or its visual word.",
    )
    videobert_temperature: float = Field(
        default=3.0, gt=0, description="Zero-shot VideoBERT: flattening of class probabilities."
    )
    videobert_top_k: int = Field(
        default=50, ge=1, le=1000, description="Zero-shot VideoBERT: classes kept per clip."
    )
    kmeans_k: int = Field(default=12, ge=2, le=1000, description="Visual words per k-means node.")
    kmeans_depth: int = Field(default=2, ge=1, le=6, description="Levels of the k-means tree.")
    train_epochs: float = Field(default=30.0, gt=0, description="Passes over the library.")
    train_batch_size: int = Field(default=32, ge=2, le=4096)
    train_lr: float = Field(default=2e-5, gt=0, le=1.0)
    train_checkpoint_every: int = Field(
        default=100, ge=1, description="Steps between resumable checkpoints."
    )
    train_mix: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="Weight of the trained model when averaged with its zero-shot start.",
    )
    train_silent: bool = Field(
        default=False,
        description="Also train on stretches without speech, their visual tags as text.",
    )

    # --- search ----------------------------------------------------------------------------------
    fusion: Literal["score", "rrf"] = Field(
        default="score",
        description="How dense and lexical hits combine: calibrated scores or ranks.",
    )
    search_candidates: int = Field(
        default=100, ge=10, le=10_000, description="Hits per signal before fusion."
    )
    relevance_threshold: float | None = Field(
        default=None,
        ge=0,
        description="Fused score below which a result is weak (shown after the strong ones, "
        "labelled); unset: the cut-off calibrated with the model that embeds the queries.",
    )
    weak_results: int = Field(
        default=5,
        ge=0,
        le=100,
        description="Weak matches (below the cut-off) that follow the strong results; 0 hides them.",
    )
    moments_per_video: int = Field(default=3, ge=1, le=50)
    rerank: bool = Field(
        default=False, description="Rerank top results with VideoBERT's alignment head."
    )

    # --- summaries -------------------------------------------------------------------------------
    summary_model: str = Field(
        default="facebook/bart-large-cnn",
        description="BART checkpoint (name in the local model cache, or a folder); never downloaded.",
    )
    summary_sentences: int = Field(default=5, ge=1, le=50)
    summaries_at_index: bool = Field(default=True, description="Summarise each video after ingest.")

    # --- recommendations ---------------------------------------------------------------------
    recommend_refresh_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Longest a process keeps its co-watch model and popularity while new events "
        "arrive (a user's own history is read fresh every time); 0: refit at every new event.",
    )
    recommend_check_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How often a process checks the catalog for new, changed or removed videos "
        "before recommending; 0: at every call.",
    )

    @field_validator(
        "database_url",
        "qdrant_url",
        "broker_url",
        "text_model",
        "vision_model",
        "whisper_model",
        "session_secret",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _consistency_within_replicas(self) -> Settings:
        if self.qdrant_write_consistency > self.qdrant_replication:
            raise ValueError(
                f"VIDSEARCH_QDRANT_WRITE_CONSISTENCY {self.qdrant_write_consistency} is more than the "
                f"{self.qdrant_replication} replicas a write can reach (VIDSEARCH_QDRANT_REPLICATION)"
            )
        return self

    @field_validator("allowed_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: object) -> object:
        # A shell user writes VIDSEARCH_ALLOWED_ROOTS=/a:/b rather than a JSON list.
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                import json

                return json.loads(value)
            return [p for p in value.split(os.pathsep) if p]
        return value

    @field_validator("cors_origins", "allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        # VIDSEARCH_CORS_ORIGINS=https://a.example,https://b.example (or a JSON list)
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                import json

                return json.loads(value)
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    # --- derived paths ---------------------------------------------------------------------------
    @property
    def catalog_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'catalog.db'}"

    @property
    def thumbnails_dir(self) -> Path:
        return self.home / "thumbnails"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def videos_dir(self) -> Path:
        """Where HTTP ingest may read when no allowed roots are set."""
        return self.home / "videos"

    @property
    def secrets_dir(self) -> Path:
        """Keys this installation made for itself (the sign-in cookie key), readable only by
        its owner."""
        return self.home / "secrets"

    @property
    def uploads_dir(self) -> Path:
        """Files uploaded over HTTP, kept here and ingested from here."""
        return self.home / "uploads"

    @property
    def ingest_roots(self) -> list[Path]:
        """Where a job run from the command line may read: the allowed roots and the uploads
        folder; empty (anywhere) when no roots are set: the machine's owner runs it."""
        return [*self.allowed_roots, self.uploads_dir] if self.allowed_roots else []

    @property
    def http_roots(self) -> list[Path]:
        """Where a job asked for over HTTP may read: the allowed roots, or ``home/videos`` when
        none are set, and the uploads folder. Never empty: HTTP ingest is always confined."""
        return [*(self.allowed_roots or [self.videos_dir]), self.uploads_dir]

    @property
    def embedded_tasks(self) -> bool:
        return self.broker_url is None


def _refuse_unknown_variables(environ: dict[str, str]) -> None:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    unknown = sorted(
        k for k in environ if k.upper().startswith(ENV_PREFIX) and k.upper() not in known
    )
    if unknown:
        raise SettingsError(
            f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (plus explicit overrides), with readable errors."""
    _refuse_unknown_variables(dict(os.environ))
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        reasons = []
        for err in exc.errors():
            if not err["loc"]:  # a rule across settings: its message names them
                reasons.append(str(err["msg"]).removeprefix("Value error, "))
                continue
            name = ENV_PREFIX + ".".join(str(p) for p in err["loc"]).upper()
            reasons.append(f"{name}: {err['msg']} (got {err.get('input')!r})")
        raise SettingsError("bad setting: " + "; ".join(reasons)) from None
    except _SourceError as exc:
        raise SettingsError(f"bad setting: {exc}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, created once."""
    return load_settings()
