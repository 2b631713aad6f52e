"""What the endpoints share, made once per process in the app's lifespan, and how they get it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.settings import Settings
from model_lifecycle.active import load_query_embedder
from search.service import SearchService
from search.summary import Summaries
from services.ingest import BackgroundIngest, drop_partial_uploads
from services.recommendations import Recommender, recommender_for
from services.search import build_search_service
from services.summaries import summaries
from services.training import TrainingRun


class Services:
    """Models, the search service, the recommender and the embedded ingest runner of one API
    process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedder = load_query_embedder(settings)
        self.search = build_search_service(settings, self.embedder)
        self.summaries: Summaries = summaries(settings, self.embedder)
        self.ingest = BackgroundIngest(settings)
        self.recommender: Recommender = recommender_for(settings)
        self.training = TrainingRun(settings)

    def warm_up(self) -> None:
        """Load the models, fill the index and read the library's video vectors before the first
        request, not during it; in the embedded mode, take up the jobs a stopped process left."""
        self.embedder.embed_text(["warm up"])
        self.search.live.ensure_fresh()
        self.recommender.library.snapshot()
        if self.settings.embedded_tasks:
            self.ingest.resume()
        drop_partial_uploads(self.settings)

    def shutdown(self) -> None:
        self.ingest.shutdown()


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def get_settings_of_app(request: Request) -> Settings:
    return get_services(request).settings


def get_search(request: Request) -> SearchService:
    return get_services(request).search


# Module level: with postponed annotations FastAPI resolves these names in the module's globals.
Svc = Annotated[Services, Depends(get_services)]
AppSettings = Annotated[Settings, Depends(get_settings_of_app)]
Search = Annotated[SearchService, Depends(get_search)]
