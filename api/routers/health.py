"""``/health``: is the service up, and how many videos can it search."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import Anyone
from api.deps import AppSettings
from api.schemas import HealthOut
from services.library import health as library_health

# Open to anyone (load balancers, compose health checks); only the rate limit applies.
router = APIRouter(tags=["health"], dependencies=[Anyone])


@router.get("/health", response_model=HealthOut)
def health(settings: AppSettings) -> dict[str, Any]:
    return library_health(settings)
