"""``/health``: is the service up, and how many videos can it search."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import AppSettings
from api.schemas import HealthOut
from services.library import health as library_health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(settings: AppSettings) -> dict[str, Any]:
    return library_health(settings)
