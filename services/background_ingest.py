"""The embedded mode's runner in a long-running process (the API, the web UI): one background
thread works through ingest jobs in order, so requests return at once."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

from core.settings import Settings
from services.job_runs import run_jobs
from services.submissions import resume_orphans


class BackgroundIngest:
    """Embedded mode in a long-running process (API, web UI): one background thread works
    through ingest jobs in order, so requests return at once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._queue: queue.Queue[int] = queue.Queue()
        self._runner: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def enqueue(self, job_ids: Sequence[int]) -> None:
        for job_id in job_ids:
            self._queue.put(job_id)
        with self._lock:
            if self._runner is None or not self._runner.is_alive():
                self._runner = threading.Thread(target=self._drain, name="ingest", daemon=True)
                self._runner.start()

    def resume(self) -> list[int]:
        """At start: take over the jobs a stopped process left (see resume_orphans)."""
        adopted = resume_orphans(self.settings)
        if adopted:
            self.enqueue(adopted)
        return adopted

    def shutdown(self, timeout: float = 60.0) -> None:
        """Let the job in hand finish (queued ones stay queued, and the next start resumes
        them), then stop."""
        self._stopping.set()
        if self._runner is not None:
            self._runner.join(timeout)

    def _drain(self) -> None:
        while not self._stopping.is_set():
            try:
                job_id = self._queue.get(timeout=1.0)
            except queue.Empty:
                return
            run_jobs(self.settings, [job_id])
