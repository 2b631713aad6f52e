"""The health checks ``vidsearch doctor`` (and the web UI's settings panel) report: is every
backend reachable and every model where it should be?"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from importlib import metadata
from typing import TYPE_CHECKING, Any

from core.logs import redact
from core.settings import Settings

if TYPE_CHECKING:
    from videobert.options import ModelOptions


def _check(name: str, fn: Callable[[Settings], str], settings: Settings) -> dict[str, Any]:
    try:
        return {"name": name, "ok": True, "detail": fn(settings)}
    except Exception as exc:  # doctor reports every failure, whatever it is
        return {"name": name, "ok": False, "detail": f"{type(exc).__name__}: {exc}"}


def _catalog(settings: Settings) -> str:
    from core.db import get_engine, schema_version

    version = schema_version(get_engine(settings))
    return f"{redact(settings.catalog_url, url_users=True)} (schema {version})"


def _vectors(settings: Settings) -> str:
    if settings.qdrant_url:
        from core.vectors import open_vector_store

        store = open_vector_store(settings)
        return (
            f"{settings.qdrant_url}; collection {settings.qdrant_collection!r}: "
            f"{store.count()} points"
        )
    # Each process fills its own in-memory index from the catalog at its first query, so
    # what it will hold is what the catalog has ready.
    from core.catalog import ready_counts
    from core.db import session_scope

    with session_scope(settings) as session:
        counts = ready_counts(session=session)
    return (
        f"in-process (numpy), filled from the catalog by each process: "
        f"{counts.segments} segments of {counts.videos} ready videos"
    )


def _broker(settings: Settings) -> str:
    if settings.embedded_tasks:
        return "none: tasks run in-process"
    from kombu import Connection

    with Connection(settings.broker_url, connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1)
    return redact(settings.broker_url or "", url_users=True)


def _slot_check(slot: str) -> Callable[[Settings], str]:
    """One model slot (services/model_slots.py): where its model is, or what is missing."""

    def check(settings: Settings) -> str:
        from services.model_slots import describe_slots

        row = next(r for r in describe_slots(settings)["slots"] if r["slot"] == slot)
        if not row["in_use"]:
            return f"off ({row['model']})"
        if row["error"] and row["required"]:
            raise FileNotFoundError(row["error"])
        if row["error"]:
            return row["error"]
        return f"{row['model']}: {row['path']} ({row['device']}, {row['dtype']})"

    return check


def _models_in_use(settings: Settings) -> str:
    # What a process would load, from the files alone: nothing is loaded to answer this.
    from model_lifecycle.active import active_space_name, read_active
    from videobert.options import ModelOptions

    options = ModelOptions.from_settings(settings)
    if options.vision_model is not None and read_active(settings.home) is None:
        name = active_space_name(options)
        if name is None:
            return f"vision-language model {options.vision_model}: not on disk"
        return f"active {name} (vision-language model); " + _query_encoder(settings, name)
    if options.embedder == "bridge":
        return "the class-name bridge (VIDSEARCH_EMBEDDER=bridge)"
    name = active_space_name(options)
    if name is None:
        return "zero-shot VideoBERT, not built yet: the first ingest or search builds it"
    trained = read_active(settings.home)
    parts = [f"active {name}"]
    if trained is None:
        parts.append(_zero_shot_build(options))
    else:
        parts.append(f"trained checkpoint {trained.checkpoint}")
    parts.append(_query_encoder(settings, name))
    return "; ".join(parts)


def _zero_shot_build(options: ModelOptions) -> str:
    from videobert.checkpoint_meta import read_meta
    from videobert.locations import zero_shot_folder

    try:
        built = read_meta(zero_shot_folder(options)).get("extra", {}).get("built_seconds")
    except (FileNotFoundError, ValueError):
        return "zero-shot build not saved on this home: the next process builds it"
    return f"zero-shot build saved (built once, in {built} s)"


def _query_encoder(settings: Settings, name: str) -> str:
    from videobert.locations import query_encoder_folder

    record = query_encoder_folder(settings.home, name) / "query_encoder.json"
    if not record.is_file():
        return "no query encoder yet: the next search exports it"
    dim = json.loads(record.read_text())["dim"]
    return f"query encoder exported ({dim}-d, no torch at search time)"


def _device(settings: Settings) -> str:
    import torch

    cuda = torch.cuda.is_available()
    name = torch.cuda.get_device_name(0) if cuda else "no CUDA GPU"
    return f"setting {settings.device!r}; torch {torch.__version__}; {name}"


_PACKAGES = (
    "torch",
    "transformers",
    "qdrant-client",
    "sqlalchemy",
    "celery",
    "av",
    "faster-whisper",
)


def _versions(_settings: Settings) -> str:
    parts = []
    for p in _PACKAGES:
        try:
            parts.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{p} missing")
    return f"python {platform.python_version()}; " + ", ".join(parts)


# The checks in the order they are reported; each answers a detail or raises what is wrong.
_CHECKS: tuple[tuple[str, Callable[[Settings], str]], ...] = (
    ("home", lambda settings: str(settings.home)),
    ("catalog", _catalog),
    ("vector index", _vectors),
    ("task queue", _broker),
    ("vision model", _slot_check("vision")),
    ("text model", _slot_check("text")),
    ("speech model", _slot_check("speech")),
    ("summarizer model", _slot_check("summarizer")),
    ("on-screen text model", _slot_check("on-screen text")),
    ("people model", _slot_check("people")),
    ("models in use", _models_in_use),
    ("device", _device),
    ("versions", _versions),
)


def run_checks(settings: Settings) -> list[dict[str, Any]]:
    return [_check(name, fn, settings) for name, fn in _CHECKS]
