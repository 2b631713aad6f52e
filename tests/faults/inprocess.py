"""Fault scenarios that run in this process with the real models (loaded once): the index lost
while serving and rebuilt from the catalog, PostgreSQL restarted during search, a full disk
for thumbnails, and a crash between the catalog commit and the sync of a served index."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.settings import Settings
from tests.faults.harness import Audit, Clips, PrivatePostgres, audit, make_clips
from tests.http import LOCAL_URL

Result = tuple[int, Audit, str]


def ingest_here(settings: Settings, folder: Path) -> dict[int, str]:
    """Embedded mode, in this process: what `vidsearch ingest FOLDER --wait` does."""
    from services.ingest import run_jobs, submit

    return run_jobs(settings, submit(settings, [folder]))


class Queries:
    """Threads that search without pause through a SearchService; each answer is compared with
    the full answer: an error, or a result list shorter than it, is counted."""

    def __init__(self, service, query: str, threads: int = 3) -> None:  # type: ignore[no-untyped-def]
        self.service, self.query = service, query
        self.expected = {r.video_id for r in service.search(query, limit=50).results}
        self.counts: Counter[str] = Counter()
        self.tracebacks: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Queries:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                got = {r.video_id for r in self.service.search(self.query, limit=50).results}
                kind = "full" if got == self.expected else "short"
            except Exception as exc:  # noqa: BLE001 - counted, then shown
                kind = f"error {type(exc).__name__}"
                import traceback

                self.tracebacks.setdefault(kind, traceback.format_exc())
            with self._lock:
                self.counts[kind] += 1

    def answers_fully(self) -> bool:
        return {r.video_id for r in self.service.search(self.query, limit=50).results} == set(
            self.expected
        )

    def errors(self) -> int:
        return sum(n for k, n in self.counts.items() if k.startswith("error"))


class _Serialised:
    """qdrant-client's in-process engine stands in for a Qdrant server here; a server serialises
    concurrent reads and writes itself, the in-process engine does not (a search beside an
    upsert can see half-grown arrays), so each call takes a lock, as the server would."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self._client = client
        self._lock = threading.RLock()

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def locked(*args, **kwargs):  # type: ignore[no-untyped-def]
            with self._lock:
                return attr(*args, **kwargs)

        return locked


def index_lost_while_serving(
    settings: Settings, clips: Clips, *, engine: str, losses: int, rebuilds: int, seed: int
) -> Result:
    """Search keeps answering while its index is wiped (the numpy index dropped, or the Qdrant
    collection deleted under it) ``losses`` times and rebuilt from the catalog through the API
    ``rebuilds`` times: the query after each loss answers in full again."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.deps import Services
    from search.live import LiveIndex
    from services.library import index_status

    rng = random.Random(seed)
    app = create_app(settings)
    services = Services(settings)
    client_store = None
    if engine == "qdrant":
        from qdrant_client import QdrantClient

        from core.vectors.qdrant_engine import QdrantStore

        client_store = _Serialised(QdrantClient(":memory:"))
        services.search.live = LiveIndex(
            settings,
            store=QdrantStore(settings.qdrant_collection, client=client_store),  # type: ignore[arg-type]
        )
    services.warm_up()
    app.state.services = services
    api = TestClient(app, base_url=LOCAL_URL)
    store = services.search.index
    started = time.monotonic()
    recovered = 0
    with Queries(services.search, "scene reel") as queries:
        plan = ["loss"] * losses + ["rebuild"] * rebuilds
        rng.shuffle(plan)
        for fault in plan:
            time.sleep(rng.uniform(0.05, 0.4))
            if fault == "loss":
                if client_store is not None:
                    client_store.delete_collection(settings.qdrant_collection)
                else:
                    store.drop()
                recovered += queries.answers_fully()  # the next query finds it lost and mends it
            else:
                r = api.post("/reindex", params={"rebuild": "true"})
                assert r.status_code == 200, r.text
    status = index_status(settings, store)
    result = audit(settings, clips, index=status)
    if recovered != losses:
        result.lost.append(f"only {recovered} of {losses} losses answered in full at once")
    if queries.errors():
        result.lost.append(
            f"search errors while the index was lost: {dict(queries.counts)}\n"
            + "\n".join(queries.tracebacks.values())
        )
    services.shutdown()
    note = f"{engine}: answers {dict(queries.counts)}; {time.monotonic() - started:.0f} s"
    return losses + rebuilds, result, note


def postgres_restarted_during_search(
    settings: Settings, clips: Clips, pg: PrivatePostgres, *, restarts: int, seed: int
) -> Result:
    """The catalog (PostgreSQL) crashes and restarts ``restarts`` times while searches run: every
    search answers from the index it has, a catalog read answers 503 with Retry-After while the
    database is down (never a 500), and once it is back new videos are found again."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.deps import Services

    rng = random.Random(seed)
    app = create_app(settings)
    services = Services(settings)
    services.warm_up()
    app.state.services = services
    api = TestClient(app, base_url=LOCAL_URL)
    started = time.monotonic()
    down_answers: Counter[int] = Counter()
    with Queries(services.search, "scene reel") as queries:
        for _ in range(restarts):
            time.sleep(rng.uniform(0.2, 1.0))
            pg.stop("immediate")
            try:
                r = api.get("/videos")
                down_answers[r.status_code] += 1
                assert r.status_code != 500, r.text
                if r.status_code == 503:
                    assert r.headers["retry-after"]
            finally:
                pg.start()
    late = make_clips(clips.folder.parent / f"late{seed}", 2, seed=seed + 77)
    ingest_here(settings, late.folder)
    from services.library import index_status

    subtitled = str(late.unique[0].absolute())  # the first clip of a batch has subtitles
    deadline = time.monotonic() + 30
    found = False
    while not found and time.monotonic() < deadline:  # the live index catches up by itself
        hits = {r.path for r in services.search.search("scene reel", limit=50).results}
        found = subtitled in hits
        time.sleep(0.2)
    result = audit(settings, [clips, late], index=index_status(settings, services.search.index))
    if queries.errors():
        result.lost.append(f"search errors while the catalog restarted: {dict(queries.counts)}")
    if not found:
        result.lost.append("videos ingested after the restarts were not found")
    services.shutdown()
    note = (
        f"searches {dict(queries.counts)}; /videos while down {dict(down_answers)}; "
        f"{time.monotonic() - started:.0f} s"
    )
    return restarts, result, note


@contextmanager
def small_disk(folder: Path, size_kb: int) -> Iterator[str]:
    """``folder`` on a tmpfs of ``size_kb`` (root can mount one); yields "tmpfs", or "simulated"
    where mounting is not allowed (the thumbnail fault point raises ENOSPC instead)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)],
            capture_output=True,
        ).returncode
        == 0
    )
    try:
        yield "tmpfs" if mounted else "simulated"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def thumbnails_disk_full(settings: Settings, tmp: Path, *, videos: int, seed: int) -> Result:
    """Thumbnails go to a disk that fills up part way through a folder: the jobs that meet the
    full disk fail with the reason and leave no thumbnail behind, the others are indexed; once
    space is freed, ingesting the folder again indexes the rest."""
    clips = make_clips(tmp / f"disk{seed}", videos, seed=seed)
    started = time.monotonic()
    with small_disk(settings.thumbnails_dir, size_kb=256) as how:
        saved = {k: os.environ.get(k) for k in ("VS_FAULT_AT", "VS_FAULT_ACTION", "VS_FAULT_AFTER")}
        filler = settings.thumbnails_dir / ".filler"
        try:
            if how == "tmpfs":
                free = shutil.disk_usage(settings.thumbnails_dir).free
                filler.write_bytes(b"\0" * max(0, free - 12 * 1024))  # room for three thumbnails
            else:
                os.environ.update(
                    VS_FAULT_AT="thumbnail", VS_FAULT_ACTION="enospc", VS_FAULT_AFTER="5"
                )
            first = ingest_here(settings, clips.folder)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        full = [j for j, status in first.items() if status == "failed"]
        reasons = _errors(settings, full)
        filler.unlink(missing_ok=True)
        midway = audit(settings, clips)  # each file indexed, or failed with the reason
        second = ingest_here(settings, clips.folder)
        result = audit(settings, clips)
    disk_full = [e for e in reasons if "no space left" in e]
    if len(disk_full) < 1:
        result.lost.append(f"no job met the full disk ({how}); failures: {reasons}")
    result.orphaned += midway.orphaned  # what the full disk left behind before space was freed
    result.lost += midway.lost
    note = (
        f"{how} disk: {len(disk_full)} jobs failed for lack of space, then "
        f"{Counter(second.values())}; {time.monotonic() - started:.0f} s"
    )
    return len(disk_full), result, note


def _errors(settings: Settings, job_ids: list[int]) -> list[str]:
    from services.ingest import job_views

    return [v["error"] or "" for v in job_views(settings, job_ids)]


def served_index_crash_between_commit_and_sync(
    settings: Settings, tmp: Path, *, videos: int, seed: int
) -> Result:
    """A worker keeping a served index (Qdrant) stops right after the catalog commit, before its
    sync; the redelivered task finds the job done and syncs the index (every job, here)."""
    from qdrant_client import QdrantClient

    from core.vectors.qdrant_engine import QdrantStore
    from indexer.pipeline import run_ingest_job
    from services.ingest import create_jobs
    from services.library import index_status

    clips = make_clips(tmp / f"qsync{seed}", videos, seed=seed)
    store = QdrantStore(settings.qdrant_collection, client=QdrantClient(":memory:"))
    jobs = create_jobs(clips.files, settings)
    started = time.monotonic()
    crashes = 0
    saved = {k: os.environ.get(k) for k in ("VS_FAULT_AT", "VS_FAULT_ACTION")}
    os.environ.update(VS_FAULT_AT="sync", VS_FAULT_ACTION="interrupt")
    try:
        for job in jobs:
            try:
                run_ingest_job(job, settings=settings, store=store)
            except KeyboardInterrupt:
                crashes += 1
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    missing = index_status(settings, store)["missing_videos"]
    for job in jobs:  # the broker redelivers each unacknowledged task
        run_ingest_job(job, settings=settings, store=store)
    result = audit(settings, clips, index=index_status(settings, store))
    note = (
        f"{len(missing)} videos committed but missing from the index after the crashes, "
        f"synced by the redelivered tasks; {time.monotonic() - started:.0f} s"
    )
    return crashes, result, note
