"""The embedded mode's in-process segment index, kept fresh from the catalog."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from core.catalog import ReadySignature, ready_signature
from core.db import session_scope
from core.models import Segment, Video, VideoStatus
from core.settings import Settings
from core.vectors import VectorStore, open_vector_store, sync_from_catalog

log = logging.getLogger(__name__)
SERVER_CHECK_SECONDS = 5.0  # how often a process looks whether a Qdrant server lost its points
WARN_EVERY_SECONDS = 30.0


class LiveIndex:
    """The embedded mode's in-memory index, re-synced from the catalog whenever it changed.

    The check is one aggregate query; the sync itself only touches videos whose revision moved.
    An index that lost points behind our back (dropped, wiped) is reconciled whole. While the
    catalog is unreachable, queries are answered from the index as it was. With a Qdrant server
    the workers keep the index current; this only looks, every few seconds, whether the server
    lost points the catalog has, and writes them back.
    """

    def __init__(
        self, settings: Settings, store: VectorStore | None = None, *, sync: bool = True
    ) -> None:
        self.settings = settings
        self.store = store or open_vector_store(settings)
        self.sync = sync  # False: the caller fills the index itself (benchmarks)
        self._signature: ReadySignature | None = None
        self._points: int | None = None  # the index's size after our last sync
        self._lock = threading.Lock()
        self._next_server_check = 0.0
        self._last_warning = 0.0

    def ensure_fresh(self) -> None:
        if not self.sync:
            return
        try:
            if self.settings.qdrant_url:
                self._mend_server_index()
            else:
                self._refresh()
        except OperationalError as exc:
            if self._signature is None and not self.settings.qdrant_url:
                raise  # never filled: there is nothing to answer from
            now = time.monotonic()
            if now - self._last_warning > WARN_EVERY_SECONDS:
                self._last_warning = now
                log.warning("catalog unreachable; answering from the index as it was: %s", exc)

    def _refresh(self) -> None:
        with session_scope(self.settings) as session:
            signature = ready_signature(session=session)
            if signature == self._signature and self.store.count() == self._points:
                return
            with self._lock:
                if signature != self._signature or self.store.count() != self._points:
                    sync_from_catalog(self.store, session)
                    self._signature = signature
                    self._points = self.store.count()

    def _mend_server_index(self) -> None:
        now = time.monotonic()
        if now < self._next_server_check:
            return
        self._next_server_check = now + SERVER_CHECK_SECONDS
        with session_scope(self.settings) as session:
            expected = session.scalar(
                select(func.count(Segment.id))
                .join(Video, Video.id == Segment.video_id)
                .where(Video.status == VideoStatus.READY)
            )
            if self.store.count() < (expected or 0):
                with self._lock:
                    log.warning("the vector index lost points; writing them back from the catalog")
                    sync_from_catalog(self.store, session)
