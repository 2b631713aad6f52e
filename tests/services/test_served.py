"""The served topology as plain processes: Redis-brokered Celery workers writing to PostgreSQL."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from core.arrays import unpack_f32
from core.db import session_scope
from core.models import Job, Segment, Summary, Video
from core.settings import Settings
from core.vectors import open_vector_store, sync_from_catalog
from tests.conftest import shipped_videos
from tests.processes import Workers, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.real_models]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(tmp_path: Path, pg_url: str, redis_url: str, model_cache: Path):
    """Settings + environment for the served mode, with a queue of this test's own."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        home=tmp_path / "served-home",
        database_url=pg_url,
        broker_url=redis_url,
        queue=queue,
        task_visibility_timeout=4,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDSEARCH_")}
    env.update(
        {
            "VIDSEARCH_HOME": str(settings.home),
            "VIDSEARCH_DATABASE_URL": pg_url,
            "VIDSEARCH_BROKER_URL": redis_url,
            "VIDSEARCH_QUEUE": queue,
            "VIDSEARCH_TASK_VISIBILITY_TIMEOUT": "4",
            "VIDSEARCH_STALE_JOB_SECONDS": "30",
            "PYTHONPATH": str(REPO),
        }
    )
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    workers = Workers(env, log_dir)
    yield settings, env, workers
    workers.stop_all()
    # Leave nothing in Redis for the next run.
    import redis

    redis.Redis.from_url(redis_url).delete(queue, "unacked", "unacked_index")


def _catalog(settings: Settings) -> dict[str, dict]:
    with session_scope(settings) as s:
        out = {}
        for v in s.query(Video).order_by(Video.id):
            out[v.id] = {
                "status": v.status,
                "duration": v.duration,
                "has_speech": v.has_speech,
                "segments": [
                    (x.index, x.shot_index, x.start, x.end, x.transcript, x.tags, x.caption)
                    for x in v.segments
                ],
                "vectors": [
                    (unpack_f32(x.video_vector), unpack_f32(x.text_vector)) for x in v.segments
                ],
            }
        return out


def test_two_celery_workers_on_postgres_give_the_same_catalog_as_the_embedded_run(
    served, tmp_path, cli, settings
):
    served_settings, env, workers = served
    folder = tmp_path / "footage"
    folder.mkdir()
    for src in shipped_videos():
        shutil.copyfile(src, folder / src.name)

    code, _ = cli("ingest", str(folder), "--wait", "--json")  # embedded: SQLite, in-process
    assert code == 0
    embedded = _catalog(settings)

    workers.start("w1")
    workers.start("w2")
    done = run_cli(env, "ingest", str(folder), "--wait", "--json", "--timeout", "400")
    assert done.returncode == 0, done.stdout + done.stderr + workers.logs()
    served_catalog = _catalog(served_settings)

    assert set(served_catalog) == set(embedded) and len(embedded) == len(shipped_videos())
    for vid, want in embedded.items():
        got = served_catalog[vid]
        assert got["status"] == want["status"] == "ready"
        assert got["duration"] == want["duration"] and got["has_speech"] == want["has_speech"]
        assert got["segments"] == want["segments"]
        for (gv, gt), (wv, wt) in zip(got["vectors"], want["vectors"], strict=True):
            assert np.allclose(gv, wv, atol=1e-4) and np.allclose(gt, wt, atol=1e-4)
    with session_scope(served_settings) as s:
        assert s.query(Job).filter(Job.status == "succeeded").count() == len(embedded)
    # Each ingest queued a summary task; the workers make them (cached in the catalog).
    deadline = time.monotonic() + 120
    while True:
        with session_scope(served_settings) as s:
            summarized = {x.video_id for x in s.query(Summary)}
        if summarized == set(embedded):
            break
        assert time.monotonic() < deadline, (
            f"summaries missing for {set(embedded) - summarized}\n{workers.logs()}"
        )
        time.sleep(0.5)


def _long_clip(folder: Path, seconds: int) -> Path:
    from indexer.media import write_video
    from tests.conftest import colour_shots

    folder.mkdir(parents=True, exist_ok=True)
    shots = [7.0] * (seconds // 7)
    return write_video(folder / "long.mp4", colour_shots(shots, size=(96, 64), fps=10), fps=10)


def test_a_worker_killed_mid_video_is_recovered_by_a_new_one_without_duplicates(served, tmp_path):
    settings, env, workers = served
    clip = _long_clip(tmp_path / "media", 140)
    first = workers.start("doomed")
    queued = run_cli(env, "ingest", str(clip), "--json")
    assert queued.returncode == 0, queued.stderr
    deadline = time.monotonic() + 180
    while True:  # wait until the worker is inside the video, then kill it outright
        with session_scope(settings) as s:
            job = s.query(Job).one()
            stage, progress = job.stage, job.progress
        if stage == "sample" and progress > 0.15:
            break
        assert time.monotonic() < deadline, (
            f"job never got going: {stage} {progress}\n{workers.logs()}"
        )
        time.sleep(0.1)
    workers.kill(first)
    with session_scope(settings) as s:
        assert s.query(Video).one().status == "processing"

    workers.start("rescuer")
    deadline = time.monotonic() + 300
    while True:
        with session_scope(settings) as s:
            job = s.query(Job).one()
            if job.status in ("succeeded", "failed", "skipped"):
                break
        assert time.monotonic() < deadline, "the redelivered job never finished\n" + workers.logs()
        time.sleep(0.5)

    with session_scope(settings) as s:
        job = s.query(Job).one()
        video = s.query(Video).one()
        assert job.status == "succeeded" and job.attempts >= 2, (job.status, job.error)
        assert video.status == "ready" and video.revision == 1
        segments = s.query(Segment).order_by(Segment.index).all()
        assert [x.index for x in segments] == list(range(len(segments)))
        referenced = {x.thumbnail for x in segments}
        store = open_vector_store(settings, client=QdrantClient(":memory:"))
        report = sync_from_catalog(store, s)
    on_disk = {
        str(p.relative_to(settings.thumbnails_dir))
        for p in settings.thumbnails_dir.rglob("*")
        if p.is_file()
    }
    assert on_disk == referenced, "orphan or missing thumbnails"
    assert report.total == len(segments)
