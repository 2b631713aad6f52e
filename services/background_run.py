"""Work a long-running process does in a background thread, one run at a time, its state
readable while it goes (training asked for over HTTP, a switch of vision model)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from core.settings import Settings


class BackgroundRun:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._state: dict[str, Any] = {"state": "idle"}

    def status(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._state)

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _launch(self, name: str, work: Callable[..., None], *args: Any, **state: Any) -> bool:
        """Start ``work(*args)`` in a thread with this starting state; False when a run is
        going already."""
        with self._lock:
            if self.running():
                return False
            self._state = dict(state)
            self._thread = threading.Thread(target=work, args=args, name=name, daemon=True)
            self._thread.start()
            return True

    def _update(self, **values: Any) -> None:
        with self._lock:
            self._state.update(values)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
