"""``/index``, ``/reindex`` and ``/train``: the vector index compared with the catalog, mended or
rebuilt from it, and training VideoBERT on the library (admins only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from api.auth import AdminOnly
from api.deps import Svc
from services.library import index_status, reindex

router = APIRouter(tags=["maintenance"], dependencies=[AdminOnly])


@router.get("/index")
def index(svc: Svc) -> dict[str, Any]:
    """The index this server searches, against the catalog: points, segments of ready videos,
    videos whose points are missing or stale, points of no ready video; ``in_sync``."""
    return index_status(svc.settings, svc.search.index)


@router.post("/reindex")
def reindex_all(
    svc: Svc,
    rebuild: Annotated[
        bool, Query(description="Drop the index and write it again from the catalog.")
    ] = False,
) -> dict[str, Any]:
    """Bring the index this server searches in line with the catalog (``rebuild``: from
    nothing). Idempotent; search keeps answering meanwhile."""
    where, report = reindex(svc.settings, rebuild=rebuild, store=svc.search.index)
    return {
        "index": where,
        "upserted": report.upserted,
        "deleted": report.deleted,
        "points": report.total,
    }


@router.post("/train", status_code=202)
def train(
    svc: Svc,
    epochs: Annotated[float | None, Query(gt=0, le=10_000)] = None,
    steps: Annotated[int | None, Query(ge=1, le=10_000_000)] = None,
) -> dict[str, Any]:
    """Start training VideoBERT on the library, then re-embed it and swap (as `vidsearch train`),
    in the background; 409 while a run is going. Follow it with ``GET /train``."""
    try:
        return svc.training.start(epochs=epochs, steps=steps)
    except RuntimeError as exc:
        raise HTTPException(409, str(exc)) from None


@router.get("/train")
def training_status(svc: Svc) -> dict[str, Any]:
    """The training run of this server: idle, running (step of steps, losses), finished (its
    report), refused or failed (the reason)."""
    return svc.training.status()
