"""The embedded mode's in-process segment index, kept fresh from the catalog, and started warm
from its snapshot on disk (core/vectors/snapshot.py)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from core.catalog import ReadySignature, ready_signature
from core.db import session_scope
from core.settings import Settings
from core.vectors import VectorStore, open_vector_store, sync_from_catalog
from core.vectors.numpy_engine import NumpyStore
from core.vectors.snapshot import load_snapshot, save_snapshot

log = logging.getLogger(__name__)


def signature_text(signature: ReadySignature) -> str:
    return ":".join(str(part) for part in signature)


class LiveIndex:
    """The embedded mode's in-memory index, re-synced from the catalog whenever it changed.

    The check is one aggregate query; the sync itself only touches videos whose revision moved.
    A process's first check starts from the index snapshot under ``VIDSEARCH_HOME/index`` when
    it is whole, and writes a new one whenever its sync changed something. With a Qdrant server
    the workers keep the index current, so nothing is checked here.
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
        self.snapshots = snapshots and isinstance(self.store, NumpyStore)
        self._signature: ReadySignature | None = None
        self._started = False
        self._lock = threading.Lock()

    @property
    def snapshot_folder(self) -> Path:
        return self.settings.home / "index" / self.settings.qdrant_collection

    def ensure_fresh(self) -> None:
        if self.settings.qdrant_url or not self.sync:
            return
        with session_scope(self.settings) as session:
            signature = ready_signature(session=session)
            if signature == self._signature:
                return
            with self._lock:
                if signature == self._signature:
                    return
                text = signature_text(signature)
                if not self._started and self._start_from_snapshot(text):
                    self._signature = signature
                    return
                report = sync_from_catalog(self.store, session)
                if self.snapshots and (report.upserted or report.deleted):
                    self._save(text)
                self._started = True
                self._signature = signature

    def _start_from_snapshot(self, signature: str) -> bool:
        """Load the snapshot; True when it matches the catalog as it is (nothing to sync)."""
        self._started = True
        if not self.snapshots or self.store.count():
            return False
        snap = load_snapshot(self.snapshot_folder)
        if snap is None:
            return False
        assert isinstance(self.store, NumpyStore)
        self.store.mem.load_arrays(snap.arrays)
        return snap.matches(signature)

    def _save(self, signature: str) -> None:
        assert isinstance(self.store, NumpyStore)
        try:
            save_snapshot(self.store, self.snapshot_folder, signature)
        except OSError as exc:  # a read-only or full disk: only the next start is slower
            log.warning("could not write the index snapshot: %s", exc)
