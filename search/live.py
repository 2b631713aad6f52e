"""The embedded mode's in-process segment index, kept fresh from the catalog."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from core.catalog import ReadySignature, count_ready_segments, ready_signature
from core.db import CatalogUnavailable, session_scope
from core.settings import Settings
from core.vectors import VectorStore, open_vector_store, sync_from_catalog
from core.vectors.numpy_engine import NumpyStore
from core.vectors.snapshot import load_snapshot, save_snapshot

log = logging.getLogger(__name__)


def signature_text(signature: ReadySignature) -> str:
    return ":".join(str(part) for part in signature)


SERVER_CHECK_SECONDS = 5.0  # how often a process looks whether a Qdrant server lost its points
LARGE_CHECK_SECONDS = 1.0  # how often a large embedded index looks whether the catalog changed
WARN_EVERY_SECONDS = 30.0


class LiveIndex:
    """The embedded mode's in-memory index, re-synced from the catalog whenever it changed.

    The check is one aggregate query; the sync itself only touches videos whose revision moved.
    A process's first check starts from the index snapshot under ``VIDSEARCH_HOME/index`` when
    it is whole, and writes a new one whenever its sync changed something. An index that lost
    points behind our back (dropped, wiped) is reconciled whole. While the
    catalog is unreachable, queries are answered from the index as it was. With a Qdrant server
    the workers keep the index current; this only looks, every few seconds, whether the server
    lost points the catalog has, and writes them back.
    """

    def __init__(
        self,
        settings: Settings,
        store: VectorStore | None = None,
        *,
        sync: bool = True,
        snapshots: bool = True,
    ) -> None:
        self.settings = settings
        self.store = store or open_vector_store(settings)
        self.sync = sync  # False: the caller fills the index itself (benchmarks)
        self._signature: ReadySignature | None = None
        self._points: int | None = None  # the index's size after our last sync
        self.snapshots = snapshots and isinstance(self.store, NumpyStore)
        self._started = False
        self._lock = threading.Lock()
        self._next_server_check = 0.0
        self._next_check = 0.0
        self._last_warning = 0.0

    def ensure_fresh(self) -> None:
        if not self.sync:
            return
        try:
            if self.settings.qdrant_url:
                self._mend_server_index()
            else:
                self._refresh()
        except CatalogUnavailable as exc:
            if self._signature is None and not self.settings.qdrant_url:
                raise  # never filled: there is nothing to answer from
            now = time.monotonic()
            if now - self._last_warning > WARN_EVERY_SECONDS:
                self._last_warning = now
                log.warning("catalog unreachable; answering from the index as it was: %s", exc)

    def _refresh(self) -> None:
        # The check reads every ready video's row: at a million segments (100k videos) it took
        # 40 ms, as long as the search. A large index is checked at most every
        # LARGE_CHECK_SECONDS; a small one before every query (a new video is found at once).
        now = time.monotonic()
        large = isinstance(self.store, NumpyStore) and self.store.base is not None
        if large and self._signature is not None and now < self._next_check:
            return
        self._next_check = now + LARGE_CHECK_SECONDS
        with session_scope(self.settings) as session:
            signature = ready_signature(session=session)
            if signature == self._signature and self.store.count() == self._points:
                return
            with self._lock:
                if signature == self._signature and self.store.count() == self._points:
                    return
                text = signature_text(signature)
                if not self._started and self._start_from_snapshot(text):
                    self._signature, self._points = signature, self.store.count()
                    return
                report = sync_from_catalog(self.store, session)
                if self.snapshots and (report.upserted or report.deleted):
                    self._save(text)
                self._signature = signature
                self._points = self.store.count()

    @property
    def snapshot_folder(self) -> Path:
        return self.settings.home / "index" / self.settings.qdrant_collection

    def _start_from_snapshot(self, signature: str) -> bool:
        """Load the snapshot; True when it matches the catalog as it is (nothing to sync)."""
        self._started = True
        if not self.snapshots or self.store.count():
            return False
        snap = load_snapshot(self.snapshot_folder)
        if snap is None:
            return False
        assert isinstance(self.store, NumpyStore)
        snap.load_into(self.store)
        return snap.matches(signature)

    def _save(self, signature: str) -> None:
        assert isinstance(self.store, NumpyStore)
        try:
            save_snapshot(self.store, self.snapshot_folder, signature)
        except OSError as exc:  # a read-only or full disk: only the next start is slower
            log.warning("could not write the index snapshot: %s", exc)

    def _mend_server_index(self) -> None:
        now = time.monotonic()
        if now < self._next_server_check:
            return
        self._next_server_check = now + SERVER_CHECK_SECONDS
        with session_scope(self.settings) as session:
            expected = count_ready_segments(session=session)
            if self.store.count() < expected:
                with self._lock:
                    log.warning("the vector index lost points; writing them back from the catalog")
                    sync_from_catalog(self.store, session)
