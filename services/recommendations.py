"""Recommendations as every front end uses them: one ``Recommender`` per process and catalog (it
caches the library's vectors and the co-watch model), so a request costs a ranking, not a fit."""

from __future__ import annotations

import threading

from core.settings import Settings
from recommender.service import Recommendation, Recommender

__all__ = ["Recommendation", "Recommender", "recommender_for"]

_recommenders: dict[str, Recommender] = {}
_lock = threading.Lock()


def recommender_for(settings: Settings) -> Recommender:
    """This process's recommender for the settings' catalog: ``recommend(user_id=, limit=)``
    (objects with ``as_dict()``) and ``continue_watching(user_id=, limit=)``."""
    key = f"{settings.catalog_url}|{settings.home}"
    with _lock:
        if key not in _recommenders:
            _recommenders[key] = Recommender(settings)
        return _recommenders[key]
