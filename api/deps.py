"""How the endpoints reach what the app's lifespan built once: the process's ``Services``
(services/root.py) and its settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.settings import Settings
from services.root import Services

__all__ = ["AppSettings", "Services", "Svc", "get_services", "get_settings_of_app"]


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def get_settings_of_app(request: Request) -> Settings:
    return get_services(request).settings


# Module level: with postponed annotations FastAPI resolves these names in the module's globals.
Svc = Annotated[Services, Depends(get_services)]
AppSettings = Annotated[Settings, Depends(get_settings_of_app)]
