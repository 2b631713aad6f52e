"""The composition root: what one process's front end calls, built once per process.

The API builds one in its lifespan, the web UI in ``st.cache_resource``, a Celery worker in its
process init (``process_services``, shared with its tasks), a CLI command for its one call. Each part is made when first asked for, so a page
that only reads the catalog, or a CLI listing, never imports torch; ``warm_up`` asks for them
all before the first request of a long-running process."""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from core.settings import Settings

if TYPE_CHECKING:
    from core.vectors import VectorStore
    from search.service import SearchService
    from search.summary import Summaries
    from services.ingest import BackgroundIngest
    from services.model_switch import ModelSwitch
    from services.recommendations import Recommender
    from services.training import TrainingRun
    from videobert.embedder import Embedder


log = logging.getLogger(__name__)


class Services:
    """Models, the search service, summaries, the recommender, the embedded ingest runner and
    the training run of one process, for one set of settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def embedder(self) -> Embedder:
        """The query model (its text tower loads at the first query; see QueryEmbedder)."""
        from model_lifecycle.active import load_query_embedder

        return load_query_embedder(self.settings)

    @cached_property
    def search(self) -> SearchService:
        from services.search import build_search_service

        return build_search_service(self.settings, self.embedder)

    @cached_property
    def summaries(self) -> Summaries:
        from services.summaries import summaries

        # The query model is asked for when a summary is made, not for a cached one.
        return summaries(self.settings, lambda: self.embedder)

    @cached_property
    def ingest(self) -> BackgroundIngest:
        from services.ingest import BackgroundIngest

        return BackgroundIngest(self.settings)

    @cached_property
    def recommender(self) -> Recommender:
        from services.recommendations import recommender_for

        return recommender_for(self.settings)

    @cached_property
    def switch(self) -> ModelSwitch:
        from services.model_switch import ModelSwitch

        return ModelSwitch(self.settings)

    @cached_property
    def training(self) -> TrainingRun:
        from services.training import TrainingRun

        return TrainingRun(self.settings)

    @cached_property
    def shared_store(self) -> VectorStore | None:
        """The index a worker writes: a Qdrant server, kept in sync after each commit. None in
        the embedded mode, where each reading process keeps its own index in step."""
        if self.settings.qdrant_url is None:
            return None
        from core.vectors import open_vector_store

        return open_vector_store(self.settings)

    def warm_up_worker(self) -> None:
        """A worker process, before its first task: the active model checked against the
        catalog (a swap this machine's file never heard of), the indexing models loaded."""
        from indexer.pipeline import load_models
        from model_lifecycle.active import reconcile_active_file
        from services.model_slots import check_models

        check_models(self.settings)
        try:
            reconcile_active_file(self.settings)
        except Exception as exc:  # noqa: BLE001 - the catalog may be down at start; tasks retry
            log.warning("could not check the active model: %s", exc)
        load_models(self.settings).embedder.embed_text(["warm up"])

    def warm_up(self) -> None:
        """Load the query model, fill the index and read the library's video vectors before the
        first request, not during it; in the embedded mode, take up the jobs a stopped process
        left, and drop the partial uploads it left."""
        from services.ingest import drop_partial_uploads
        from services.model_slots import check_models

        check_models(self.settings)  # a missing model stops the process here, in one line
        self.embedder.embed_text(["warm up"])
        self.search.live.ensure_fresh()
        # A large index's base is read into memory now, not by the first requests' page faults.
        prefetch = getattr(self.search.index, "prefetch", None)
        if prefetch is not None:
            prefetch()
        self.recommender.library.snapshot()
        if self.settings.embedded_tasks:
            self.ingest.resume()
            # A change of vision model moves the library in the background; search answers
            # from the old space until the swap (services/model_switch.py).
            self.switch.start()
        drop_partial_uploads(self.settings)

    def shutdown(self) -> None:
        """Let the background ingest finish the job in hand (only if one was ever started)."""
        if "ingest" in self.__dict__:
            self.ingest.shutdown()


_built: dict[str, Services] = {}
_lock = threading.Lock()


def process_services(settings: Settings) -> Services:
    """This process's services for ``settings``: made at the first call, the same object after
    (a worker's tasks and its process init share the models they load)."""
    key = settings.model_dump_json()
    with _lock:
        if key not in _built:
            _built[key] = Services(settings)
        return _built[key]
