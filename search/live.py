"""The embedded mode's in-process segment index, kept fresh from the catalog."""

from __future__ import annotations

import threading

from core.catalog import ReadySignature, ready_signature
from core.db import session_scope
from core.settings import Settings
from core.vectors import VectorStore, open_vector_store, sync_from_catalog


class LiveIndex:
    """The embedded mode's in-memory index, re-synced from the catalog whenever it changed.

    The check is one aggregate query; the sync itself only touches videos whose revision moved.
    With a Qdrant server the workers keep the index current, so nothing is checked here.
    """

    def __init__(
        self, settings: Settings, store: VectorStore | None = None, *, sync: bool = True
    ) -> None:
        self.settings = settings
        self.store = store or open_vector_store(settings)
        self.sync = sync  # False: the caller fills the index itself (benchmarks)
        self._signature: ReadySignature | None = None
        self._lock = threading.Lock()

    def ensure_fresh(self) -> None:
        if self.settings.qdrant_url or not self.sync:
            return
        with session_scope(self.settings) as session:
            signature = ready_signature(session=session)
            if signature == self._signature:
                return
            with self._lock:
                if signature != self._signature:
                    sync_from_catalog(self.store, session)
                    self._signature = signature
