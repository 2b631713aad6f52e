"""Coordination benchmark: how many ingest jobs a second one catalog (PostgreSQL) and one broker
(Redis) can hand out, keep leased and commit, with the model work taken out.

    .venv/bin/python bench/coordination.py            # 16, 32 and 64 workers: the acceptance run
    .venv/bin/python bench/coordination.py --quick    # the same, a few jobs a worker (< 60 s)

Each simulated worker is a process forked from this one (a real worker is a process with its own
catalog connection and broker connection; threads would share one interpreter and one connection
pool and measure the GIL). Forking after the imports keeps 64 of them cheap on 2 cores. A worker
runs the product's own calls, in the order a Celery ingest task makes them
(services/tasks.py -> indexer/pipeline.py), minus decoding, models and the Qdrant sync:

1. the message: a kombu consumer on the Celery app's broker connection (core/queue.py), prefetch
   1 and acks late, as the worker runs; the messages were sent by ``services.ingest.dispatch``
   (``send_task`` and ``mark_dispatched``, the API's path);
2. the claim: ``indexer.jobs.start_job`` (the compare-and-swap of core/job_claims.py) -- the
   "claim" latency printed;
3. the video: ``indexer.jobs.claim_video`` (the row locked, the path recorded);
4. heartbeats: ``JobProgress.update`` as the stages report (``--heartbeats`` writes while
   sampling, default 8: a 60 s video at 15x real time is 4 s of sampling, a write every 0.5 s),
   and one ``core.job_claims.renew`` (the lease thread's);
5. the commit: one transaction that locks the embedding spaces (``lock_spaces``, what
   ``commit_in_spaces`` does first), writes ``--segments`` segments with real-sized vectors
   (``commit_video``) and finishes the job, then ``job_view`` and the summary task sent, as the
   task does; the message is acknowledged last.

A summary message a worker receives is acknowledged without the summary work. Beside the workers,
one lost-job sweeper per two workers (a node runs ``--concurrency 2``) sweeps every third of the
lease (``LostJobSweeper.sweep``, the real one); they run as threads of this process so that 64
workers stay inside PostgreSQL's default 100 connections (a real node's sweeper holds a
connection of its own: 1.5 connections a job slot).

It prints, per N: jobs a second (jobs / wall time from the start signal to the last commit),
p50/p95 of the claim, of the broker's hand-over and of the commit, and the CPU time PostgreSQL
and Redis spent a job (read from /proc: on a 2-core machine the clients share the cores with the
servers, so the servers' CPU a job says what a machine of their own would sustain). It checks
that every job ran exactly once (one claim, one commit, attempts 1, every video ready at revision
1, no message left) and exits 1 otherwise.

Nothing else is disturbed: each round has its own throwaway database (created on the server of
``--pg``, dropped at the end), its own queue on ``--redis`` (a database number of its own, 13 by
default; its keys are deleted at the end).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from core.db import session_scope  # noqa: E402
from core.job_claims import renew  # noqa: E402
from core.models import Job, JobStatus, Video, VideoStatus  # noqa: E402
from core.queue import INGEST_TASK, SUMMARY_TASK, celery_app, note_broker_seen, send  # noqa: E402
from core.settings import Settings, get_settings  # noqa: E402
from indexer.commit import commit_video, finish_job  # noqa: E402
from indexer.embed import EmbeddedSegment  # noqa: E402
from indexer.jobs import JobProgress, LeaseKeeper, Started, claim_video, start_job  # noqa: E402
from indexer.media import MediaInfo  # noqa: E402
from indexer.register import Registered  # noqa: E402
from indexer.sample import PlannedSegment  # noqa: E402
from model_lifecycle.spaces import lock_spaces  # noqa: E402
from services.ingest import LostJobSweeper, create_jobs, dispatch, job_view  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/13"
VECTOR_DIM = 384  # MiniLM's width: the video and text vectors
FEATURE_DIM = 1280  # EfficientNet-Lite0's pooled features, stored per clip (float16)
CLIPS_PER_SEGMENT = 4  # 6 s segments of 1.5 s clips
IDLE_SECONDS = 1.5  # a worker that waited this long for a message finds the queue drained


@dataclass
class JobRecord:
    job_id: int
    broker_s: float  # asking the broker for work until the message is in hand
    claim_s: float  # start_job: the compare-and-swap on the job row
    heartbeat_s: float  # claim_video, the progress writes and the lease renewal
    commit_s: float  # the commit transaction, job_view and the summary task sent
    lock_wait_s: float  # waiting for the embedding spaces' row, which every commit locks
    lock_hold_s: float  # holding it: from the lock to the end of the commit
    done_at: float  # time.time() when the message was acknowledged


@dataclass
class WorkerReport:
    records: list[JobRecord] = field(default_factory=list)
    not_ours: list[int] = field(default_factory=list)  # claims refused (another worker had it)
    summaries: int = 0
    cpu_s: float = 0.0
    error: str | None = None


@dataclass
class Round:
    workers: int
    jobs: int
    heartbeats: int
    segments: int
    seconds: float
    dispatch_per_s: float
    records: list[JobRecord]
    not_ours: list[int]
    summaries: int
    client_cpu_s: float
    pg_cpu_s: float | None
    redis_cpu_s: float | None
    sweeps: int
    problems: list[str]

    @property
    def jobs_per_s(self) -> float:
        return len(self.records) / self.seconds if self.seconds > 0 else 0.0

    def row(self) -> dict[str, Any]:
        def pct(values: list[float], q: float) -> float:
            if not values:
                return float("nan")
            ordered = sorted(values)
            return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        claim = [r.claim_s for r in self.records]
        hold = [r.lock_hold_s for r in self.records]
        broker = [r.broker_s for r in self.records]
        commit = [r.commit_s for r in self.records]
        done = max(len(self.records), 1)
        return {
            "workers": self.workers,
            "jobs": len(self.records),
            "heartbeats": self.heartbeats,
            "segments": self.segments,
            "seconds": round(self.seconds, 2),
            "jobs_per_s": round(self.jobs_per_s, 1),
            "dispatch_per_s": round(self.dispatch_per_s, 1),
            "claim_p50_ms": round(pct(claim, 0.5), 1),
            "claim_p95_ms": round(pct(claim, 0.95), 1),
            "broker_p50_ms": round(pct(broker, 0.5), 1),
            "broker_p95_ms": round(pct(broker, 0.95), 1),
            "commit_p50_ms": round(pct(commit, 0.5), 1),
            "commit_p95_ms": round(pct(commit, 0.95), 1),
            "lock_wait_p50_ms": round(pct([r.lock_wait_s for r in self.records], 0.5), 1),
            "lock_hold_p50_ms": round(pct(hold, 0.5), 1),
            # Share of the wall time some commit held the spaces' row: near 1, that row is the
            # ceiling, and 1 / the hold time is what more workers can never pass.
            "lock_busy": round(sum(hold) / self.seconds, 2) if self.seconds > 0 else None,
            "client_cpu_ms_per_job": round(1000 * self.client_cpu_s / done, 1),
            "pg_cpu_ms_per_job": None
            if self.pg_cpu_s is None
            else round(1000 * self.pg_cpu_s / done, 2),
            "redis_cpu_ms_per_job": None
            if self.redis_cpu_s is None
            else round(1000 * self.redis_cpu_s / done, 3),
            "sweeps": self.sweeps,
            "exactly_once": not self.problems,
        }


# --- the servers' CPU, from /proc ----------------------------------------------------------------
def _server_cpu_seconds(names: tuple[str, ...]) -> float | None:
    """CPU seconds used so far by every process with one of these names (their exited children's
    included), or None where /proc cannot tell (another OS, or the server on another machine)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, seen = 0, False
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
        except OSError:
            continue
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        if name in names:
            fields = stat.rsplit(")", 1)[-1].split()
            # utime, stime, cutime, cstime: fields 14-17 overall, 12-15 after the name.
            total += sum(int(f) for f in fields[11:15])
            seen = True
    return total / ticks if seen else None


# --- one simulated worker ------------------------------------------------------------------------
def _segments(video_id: str, count: int, rng: np.random.Generator) -> list[EmbeddedSegment]:
    """Segments the size real ones are: two 384-d float32 vectors and four 1280-d float16 clip
    features each, so the commit moves as many bytes as an ingest's does."""
    segs = []
    for i in range(count):
        planned = PlannedSegment(
            index=i,
            shot_index=i,
            start=6.0 * i,
            end=6.0 * (i + 1),
            clip_features=rng.standard_normal((CLIPS_PER_SEGMENT, FEATURE_DIM)).astype(np.float32),
            thumbnail_jpeg=b"",
            looks={"dark": 0.1},
        )
        vec = rng.standard_normal(VECTOR_DIM).astype(np.float32)
        segs.append(
            EmbeddedSegment(
                planned=planned,
                transcript=f"words spoken in segment {i} of {video_id}",
                tags=["street", "car"],
                caption=f"words spoken in segment {i} [seen: street, car]",
                video_vector=vec / np.linalg.norm(vec),
                text_vector=vec / np.linalg.norm(vec),
                beliefs={817: 0.4, 656: 0.2},
            )
        )
    return segs


def _registered(job_id: int, path: str) -> Registered:
    digest = hashlib.sha256(f"{path}:{job_id}".encode()).hexdigest()
    info = MediaInfo(
        container="mp4",
        duration=60.0,
        fps=25.0,
        width=1280,
        height=720,
        video_codec="h264",
        audio_codec="aac",
        has_audio=True,
        subtitle_streams=0,
    )
    return Registered(path=Path(path), content_hash=digest, size=10_000_000, info=info)


def _run_job(settings: Settings, job_id: int, heartbeats: int, segments: int) -> tuple[float, ...]:
    """The catalog and broker calls of one ingest task, in the pipeline's order; returns
    (claim, heartbeats, commit, lock wait, lock hold) seconds, or () when the claim was refused."""
    t0 = time.perf_counter()
    started = start_job(settings, job_id)
    t1 = time.perf_counter()
    if started.status != JobStatus.RUNNING:
        return ()
    # As run_ingest_job: the lease thread renews while the stages run (a commit that waits long
    # for its lock must not lose the job to a sweeper).
    with LeaseKeeper(settings, job_id):
        return (t1 - t0, *_stages(settings, job_id, started, heartbeats, segments))


def _stages(
    settings: Settings, job_id: int, started: Started, heartbeats: int, segments: int
) -> tuple[float, ...]:
    t1 = time.perf_counter()
    progress = JobProgress(settings, job_id)
    reg = _registered(job_id, str(started.path))
    video_id = claim_video(settings, job_id, reg)
    if video_id is None:
        raise RuntimeError(f"job {job_id}: its video was claimed by another job")
    progress.update("register", 1.0, force=True)
    for i in range(heartbeats):
        progress.update("sample", (i + 1) / max(heartbeats, 1), force=True)
    with session_scope(settings) as session:
        renew(session=session, job_id=job_id, lease_seconds=settings.stale_job_seconds)
    progress.update("transcribe", 0.0, force=True)
    progress.update("embed", 1.0, force=True)
    rows = _segments(video_id, segments, np.random.default_rng(job_id))
    t2 = time.perf_counter()
    root = settings.thumbnails_dir
    with session_scope(settings) as session:
        # commit_in_spaces starts by locking the space records (SpaceVectors.needed): every
        # commit in the library takes that one row, so this is where commits queue.
        session.execute(text("SELECT 1"))  # the connection and its transaction first
        t_lock = time.perf_counter()
        active, _pending = lock_spaces(session=session)
        t_locked = time.perf_counter()
        commit_video(
            session=session,
            video_id=video_id,
            job_id=job_id,
            segments=rows,
            thumbnails_root=root,
            thumbnail_folder=root / video_id / f"job{job_id}-a{started.attempt}",
            embedding_model=active.name or "bench",
        )
        job = session.get(Job, job_id)
        assert job is not None
        finish_job(job, status=JobStatus.SUCCEEDED, note=f"{segments} segments")
    t_committed = time.perf_counter()
    if settings.summaries_at_index:
        video = job_view(settings, job_id)["video_id"]
        send(SUMMARY_TASK, video)
    t3 = time.perf_counter()
    return t2 - t1, t3 - t2, t_locked - t_lock, t_committed - t_locked


def _worker(
    settings: Settings, ready: Any, go: Any, out: Connection, heartbeats: int, segments: int
) -> None:
    """One worker process: connect, wait for the start, take messages until the queue is dry."""
    import kombu

    report = WorkerReport()
    try:
        app = celery_app()
        queue = app.amqp.queues[settings.queue]
        with session_scope(settings) as session:  # the catalog connection, opened before the start
            session.execute(text("SELECT 1"))
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=3)
            channel = conn.channel()
            got: list[Any] = []

            def on_message(body: Any, message: Any) -> None:
                got.append((time.perf_counter(), body, message))

            consumer = kombu.Consumer(
                channel, queues=[queue], callbacks=[on_message], accept=["json"], no_ack=False
            )
            consumer.qos(prefetch_count=1)  # worker_prefetch_multiplier=1
            consumer.consume()
            ready.release()
            go.wait()
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            while True:
                asked = time.perf_counter()
                try:
                    conn.drain_events(timeout=IDLE_SECONDS)
                except TimeoutError:  # socket.timeout is TimeoutError
                    break
                while got:
                    arrived, body, message = got.pop(0)
                    task = message.headers.get("task")
                    if task == SUMMARY_TASK:
                        report.summaries += 1
                        message.ack()
                        continue
                    if task != INGEST_TASK:
                        raise RuntimeError(f"unexpected task {task!r} on the queue")
                    args, _kwargs, _embed = body
                    job_id = int(args[0])
                    times = _run_job(settings, job_id, heartbeats, segments)
                    message.ack()  # acks late: only now may the broker forget it
                    if not times:
                        report.not_ours.append(job_id)
                        continue
                    claim_s, beat_s, commit_s, wait_s, hold_s = times
                    report.records.append(
                        JobRecord(
                            job_id,
                            arrived - asked,
                            claim_s,
                            beat_s,
                            commit_s,
                            wait_s,
                            hold_s,
                            time.time(),
                        )
                    )
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            report.cpu_s = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the round
        report.error = f"{type(exc).__name__}: {exc}"
        ready.release()
    out.send(report)
    out.close()


# --- a round -------------------------------------------------------------------------------------
@contextmanager
def _throwaway_catalog(admin_url: str) -> Iterator[str]:
    name = f"vidsearch_coord_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        from core.db import _engine_for, _engines

        # This process's pooled connections to it go first (the workers' ended with them).
        for engine in list(_engines):
            if engine.url.database == name:
                engine.dispose()
        _engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _served_settings(
    home: Path, catalog_url: str, redis_url: str, queue: str
) -> Iterator[Settings]:
    """The process-wide settings of a served worker (core/queue.py reads them for the broker and
    the queue), restored afterwards."""
    env = {
        "VIDSEARCH_HOME": str(home),
        "VIDSEARCH_DATABASE_URL": catalog_url,
        "VIDSEARCH_BROKER_URL": redis_url,
        "VIDSEARCH_QUEUE": queue,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_settings.cache_clear()
    celery_app.cache_clear()
    try:
        yield get_settings()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        celery_app.cache_clear()


def _drop_broker_keys(redis_url: str, queue: str) -> int:
    """What is left of this round's queue on the broker (0 when drained), then deleted."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        left = int(client.llen(queue))  # type: ignore[arg-type]
        client.delete(
            queue,
            f"_kombu.binding.{queue}",
            f"_kombu.binding_permanent.{queue}",  # the name kombu 5.5+ gives the binding
            f"vidsearch:broker-canary:{queue}",
        )
        return left
    finally:
        client.close()


def _audit(settings: Settings, round_: Round, job_ids: list[int], left_on_broker: int) -> None:
    problems = round_.problems
    ran = Counter(r.job_id for r in round_.records)
    twice = sorted(j for j, n in ran.items() if n > 1)
    if twice:
        problems.append(f"jobs committed more than once: {twice[:10]}")
    missing = sorted(set(job_ids) - set(ran))
    if missing:
        problems.append(f"{len(missing)} jobs never committed: {missing[:10]}")
    with session_scope(settings) as session:
        statuses = dict(
            session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        )
        if statuses != {JobStatus.SUCCEEDED: len(job_ids)}:
            problems.append(f"job statuses in the catalog: {statuses}")
        attempts = session.scalar(select(func.max(Job.attempts)))
        if attempts != 1:
            problems.append(f"a job was attempted {attempts} times")
        videos = dict(
            session.execute(
                select(Video.status, func.count()).group_by(Video.status).where(Video.revision == 1)
            ).all()
        )
        if videos != {VideoStatus.READY: len(job_ids)}:
            problems.append(f"videos ready at revision 1: {videos}")
    if left_on_broker:
        problems.append(f"{left_on_broker} messages left on the queue")
    if round_.summaries != len(job_ids):
        problems.append(f"{round_.summaries} summary messages for {len(job_ids)} videos")


class NotEnoughConnections(RuntimeError):
    """The server cannot take the connections this many workers open."""


def _check_connections(admin_url: str, workers: int) -> None:
    """A working slot holds up to two catalog connections (the job's and its lease thread's,
    which renews while the job waits, e.g. for the commit lock), and this process's sweepers
    share a pool of 15: refuse a round the server cannot take rather than starve everyone else
    using it of connections."""
    engine = create_engine(admin_url)
    try:
        with engine.connect() as conn:
            limit = int(conn.scalar(text("SHOW max_connections")) or 0)
            used = int(conn.scalar(text("SELECT count(*) FROM pg_stat_activity")) or 0)
    finally:
        engine.dispose()
    needed = 2 * workers + 15
    if needed > limit - used:
        raise NotEnoughConnections(
            f"{workers} workers need up to {needed} connections and the server has "
            f"{limit - used} free (max_connections {limit}): raise max_connections or put a "
            "pooler (PgBouncer) in front"
        )


def run_round(
    workers: int,
    jobs: int,
    *,
    heartbeats: int = 8,
    segments: int = 10,
    pg_admin: str = PG_ADMIN,
    redis_url: str = REDIS,
    sweep_seconds: float | None = None,
) -> Round:
    """``workers`` worker processes work through ``jobs`` jobs sent beforehand; returns the
    figures and what the audit found (``problems``: empty when every job ran exactly once)."""
    _check_connections(pg_admin, workers)
    queue = f"vidsearch-coord-{uuid.uuid4().hex[:8]}"
    with (
        tempfile.TemporaryDirectory(prefix="vidsearch-coord-") as home,
        _throwaway_catalog(pg_admin) as catalog_url,
        _served_settings(Path(home), catalog_url, redis_url, queue) as settings,
    ):
        with session_scope(settings) as session:
            lock_spaces(session=session)  # the active space's row, made once (a new catalog)
        job_ids = create_jobs([Path(f"/videos/clip-{i:05d}.mp4") for i in range(jobs)], settings)
        t0 = time.perf_counter()
        sent = dispatch(settings, job_ids)
        dispatch_per_s = sent / (time.perf_counter() - t0)
        note_broker_seen()  # as a worker's first sweep leaves it: the broker has not forgotten
        # Fork after the imports and the app are made: each child opens its own connections
        # (core/db.py forgets the parent's pooled ones at fork).
        ctx = mp.get_context("fork")
        ready, go = ctx.Semaphore(0), ctx.Event()
        pipes, procs = [], []
        for _ in range(workers):
            parent_end, child_end = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_worker, args=(settings, ready, go, child_end, heartbeats, segments)
            )
            proc.start()
            child_end.close()
            pipes.append(parent_end)
            procs.append(proc)
        for _ in range(workers):
            ready.acquire(timeout=120)
        sweepers = [
            LostJobSweeper(settings, interval=sweep_seconds) for _ in range(max(1, workers // 2))
        ]
        stop = threading.Event()
        sweeps = Counter[int]()

        def sweep_loop(i: int, sweeper: LostJobSweeper) -> None:
            # Nodes started at different moments: their sweeps are spread over the interval.
            if stop.wait(random.uniform(0, sweeper.interval)):
                return
            while True:
                sweeper.sweep()
                sweeps[i] += 1
                if stop.wait(sweeper.interval):
                    return

        threads = [
            threading.Thread(target=sweep_loop, args=(i, s), daemon=True)
            for i, s in enumerate(sweepers)
        ]
        for th in threads:
            th.start()
        pg0, redis0 = _server_cpu_seconds(("postgres",)), _server_cpu_seconds(("redis-server",))
        started_at = time.time()
        go.set()
        reports: list[WorkerReport] = [pipe.recv() for pipe in pipes]
        pg1, redis1 = _server_cpu_seconds(("postgres",)), _server_cpu_seconds(("redis-server",))
        stop.set()
        for th in threads:
            th.join(timeout=30)
        for proc in procs:
            proc.join(timeout=30)
        records = [r for rep in reports for r in rep.records]
        end = max((r.done_at for r in records), default=started_at)
        round_ = Round(
            workers=workers,
            jobs=jobs,
            heartbeats=heartbeats,
            segments=segments,
            seconds=end - started_at,
            dispatch_per_s=dispatch_per_s,
            records=records,
            not_ours=[j for rep in reports for j in rep.not_ours],
            summaries=sum(rep.summaries for rep in reports),
            client_cpu_s=sum(rep.cpu_s for rep in reports),
            pg_cpu_s=None if pg0 is None or pg1 is None else pg1 - pg0,
            redis_cpu_s=None if redis0 is None or redis1 is None else redis1 - redis0,
            sweeps=sum(sweeps.values()),
            problems=[f"worker failed: {rep.error}" for rep in reports if rep.error],
        )
        if sent != jobs:
            round_.problems.append(f"only {sent} of {jobs} jobs were sent")
        _audit(settings, round_, job_ids, _drop_broker_keys(redis_url, queue))
    return round_


# --- report --------------------------------------------------------------------------------------
COLUMNS = [
    ("workers", "N"),
    ("jobs", "jobs"),
    ("jobs_per_s", "jobs/s"),
    ("claim_p50_ms", "claim p50 ms"),
    ("claim_p95_ms", "claim p95 ms"),
    ("broker_p50_ms", "broker p50"),
    ("broker_p95_ms", "broker p95"),
    ("commit_p50_ms", "commit p50"),
    ("commit_p95_ms", "commit p95"),
    ("lock_hold_p50_ms", "lock held p50"),
    ("lock_busy", "lock busy"),
    ("pg_cpu_ms_per_job", "PG CPU ms/job"),
    ("redis_cpu_ms_per_job", "Redis CPU ms/job"),
    ("client_cpu_ms_per_job", "worker CPU ms/job"),
    ("exactly_once", "exactly once"),
]


def report(rounds: list[Round]) -> str:
    rows = [r.row() for r in rounds]
    widths = [max(len(h), *(len(str(row[k])) for row in rows)) for k, h in COLUMNS]
    lines = ["  ".join(h.rjust(w) for (_, h), w in zip(COLUMNS, widths, strict=True))]
    for row in rows:
        lines.append(
            "  ".join(str(row[k]).rjust(w) for (k, _), w in zip(COLUMNS, widths, strict=True))
        )
    if rows:
        first = rows[0]
        lines.append(
            f"each job: {first['heartbeats']} progress writes while sampling + 3 at stage changes, "
            f"1 lease renewal, {first['segments']} segments committed; dispatch (send_task + "
            f"mark_dispatched) {statistics.median(r['dispatch_per_s'] for r in rows):.0f} jobs/s"
        )
    for r in rounds:
        for problem in r.problems:
            lines.append(f"N={r.workers}: {problem}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="16,32,64", help="worker counts, comma-separated")
    parser.add_argument("--jobs-per-worker", type=int, default=25)
    parser.add_argument("--quick", action="store_true", help="4 jobs a worker (under a minute)")
    parser.add_argument("--heartbeats", type=int, default=8, help="progress writes a job")
    parser.add_argument("--segments", type=int, default=10, help="segments a commit writes")
    parser.add_argument("--pg", default=os.environ.get("VIDSEARCH_TEST_PG", PG_ADMIN))
    parser.add_argument("--redis", default=REDIS)
    parser.add_argument("--json", action="store_true", help="also one JSON object a line per N")
    args = parser.parse_args(argv)
    per_worker = 4 if args.quick else args.jobs_per_worker
    rounds, skipped = [], []
    for n in (int(x) for x in args.workers.split(",")):
        try:
            done = run_round(
                n,
                n * per_worker,
                heartbeats=args.heartbeats,
                segments=args.segments,
                pg_admin=args.pg,
                redis_url=args.redis,
            )
        except NotEnoughConnections as exc:
            skipped.append(f"N={n}: not run: {exc}")
            continue
        rounds.append(done)
        if args.json:
            print(json.dumps(done.row()), flush=True)
    print(report(rounds))
    for line in skipped:
        print(line)
    return 0 if all(not r.problems for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
