"""An interrupted ingest is finished by the next one: real `vidsearch` processes killed (-9) at
each stage, stopped with Ctrl-C and SIGTERM, and a CLI and an API ingesting one folder at once;
on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from core.db import session_scope
from core.models import Job, JobStatus, Segment, Video, VideoStatus
from core.settings import Settings
from core.vectors import open_vector_store, sync_from_catalog
from tests.conftest import colour_shots
from tests.processes import free_port, json_lines, run_cli, wait_for_file

pytestmark = [pytest.mark.slow, pytest.mark.real_models]
REPO = Path(__file__).resolve().parents[2]
STAGES = ["register", "sample", "transcribe", "embed", "commit"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def library(request, tmp_path: Path):
    """Settings, the environment of a `vidsearch` process on them, and a folder of three clips
    with sound (so that every stage, transcription included, runs)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    settings = Settings(home=tmp_path / "home", database_url=url, summaries_at_index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDSEARCH_", "VS_FAULT"))}
    env.update(
        VIDSEARCH_HOME=str(settings.home),
        VIDSEARCH_SUMMARIES_AT_INDEX="false",
        PYTHONPATH=str(REPO),
    )
    if url:
        env["VIDSEARCH_DATABASE_URL"] = url
    folder = settings.videos_dir  # where HTTP ingest may read by default
    folder.mkdir(parents=True)
    from indexer.media import write_video

    rng = np.random.default_rng(0)
    for i in range(3):
        noise = (0.05 * rng.standard_normal(16_000 * 2)).astype(np.float32)
        write_video(folder / f"v0{i + 1}.mp4", colour_shots([2.0], seed=i), audio=noise)
    return settings, env, folder


def _ctrl_c_reaches_python() -> None:
    # A suite started in the background (`make test &`, nohup) ignores SIGINT, and Python keeps
    # an inherited SIG_IGN: the child would never see the Ctrl-C this file sends it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_ingest(env: dict[str, str], folder: Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "ingest", str(folder), "--wait", "--json"],
        cwd=REPO,
        env={**env, **extra},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_ctrl_c_reaches_python,
    )


def assert_library_whole(settings: Settings, names: set[str]) -> None:
    """Every video ready with its segments, vectors and thumbnails, nothing twice, no orphan."""
    with session_scope(settings) as s:
        videos = s.query(Video).all()
        assert {Path(v.source_path).name for v in videos} == names
        for v in videos:
            assert v.status == VideoStatus.READY, (v.source_path, v.status, v.error)
            indexes = [x.index for x in v.segments]
            assert indexes == list(range(len(indexes))) and indexes
        unfinished = [(j.id, j.status) for j in s.query(Job) if j.status not in JobStatus.FINISHED]
        assert not unfinished, unfinished
        succeeded = [j.video_id for j in s.query(Job) if j.status == JobStatus.SUCCEEDED]
        assert sorted(succeeded) == sorted(v.id for v in videos)  # each indexed exactly once
        referenced = {x.thumbnail for x in s.query(Segment)}
        store = open_vector_store(settings, client=QdrantClient(":memory:"))
        report = sync_from_catalog(store, s)
        assert report.total == s.query(Segment).count()
    on_disk = {
        str(p.relative_to(settings.thumbnails_dir))
        for p in settings.thumbnails_dir.rglob("*")
        if p.is_file()
    }
    assert on_disk == referenced, "orphan or missing thumbnails"


@pytest.mark.parametrize("stage", STAGES)
def test_a_run_killed_at_any_stage_is_finished_by_the_next(library, tmp_path, stage):
    settings, env, folder = library
    marker = tmp_path / "reached"
    first = start_ingest(env, folder, VS_FAULT_AT=stage, VS_FAULT_MARKER=str(marker))
    wait_for_file(marker, first)
    os.killpg(first.pid, signal.SIGKILL)  # as a crash or an out-of-memory kill would
    first.wait(timeout=30)

    listing = run_cli(env, "jobs", "--json")
    statuses = [j["status"] for j in json_lines(listing.stdout)[0]["jobs"]]
    assert "running" not in statuses, statuses  # a dead job is never shown as running
    assert statuses.count("interrupted") <= 1

    again = run_cli(env, "ingest", str(folder), "--wait", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    outcomes = {Path(j["path"]).name: j["outcome"] for j in json_lines(again.stdout)}
    assert set(outcomes) >= {"v01.mp4", "v02.mp4", "v03.mp4"}
    assert all(o in ("succeeded", "skipped") for o in outcomes.values()), outcomes
    assert_library_whole(settings, {"v01.mp4", "v02.mp4", "v03.mp4"})


@pytest.mark.parametrize(
    "sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_a_stopped_run_says_what_is_left_and_the_next_finishes_it(library, tmp_path, sig, code):
    settings, env, folder = library
    marker = tmp_path / "reached"
    first = start_ingest(env, folder, VS_FAULT_AT="sample", VS_FAULT_MARKER=str(marker))
    wait_for_file(marker, first)
    os.killpg(first.pid, sig)
    out, err = first.communicate(timeout=60)
    assert first.returncode == code, out + err
    assert "interrupted" in err and "3 file(s) left to index" in err, err
    with session_scope(settings) as s:
        (job,) = s.query(Job).filter(Job.status == JobStatus.INTERRUPTED).all()
        assert job.path.endswith("v01.mp4") and job.stage == "sample"
        video = s.get(Video, job.video_id)
        assert video.status == VideoStatus.PENDING and video.claimed_by_job is None
        assert s.query(Segment).count() == 0  # nothing half-written is visible
        queued = s.query(Job).filter(Job.status == JobStatus.QUEUED).count()
        assert queued == 2

    again = run_cli(env, "ingest", str(folder), "--wait", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    with session_scope(settings) as s:
        resumed = s.get(Job, job.id)
        assert resumed.status == JobStatus.SUCCEEDED and resumed.attempts == 2
        assert s.query(Job).count() == 3  # adopted, not queued twice
    assert_library_whole(settings, {"v01.mp4", "v02.mp4", "v03.mp4"})


def test_a_cli_and_an_api_ingesting_one_folder_index_each_video_once(library, tmp_path):
    import httpx

    settings, env, folder = library
    port = free_port()
    log = open(tmp_path / "api.log", "wb")  # noqa: SIM115 - closed below
    api = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "api", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert api.poll() is None and time.monotonic() < deadline, "API did not start"
            time.sleep(0.3)
        posted = httpx.post(f"{base}/ingest", json={"paths": [str(folder)]}, timeout=30)
        assert posted.status_code == 202
        cli = run_cli(env, "ingest", str(folder), "--wait", "--json")
        assert cli.returncode == 0, cli.stdout + cli.stderr
        api_jobs = [j["job_id"] for j in posted.json()["jobs"]]
        deadline = time.monotonic() + 300
        while any(
            httpx.get(f"{base}/jobs/{j}", timeout=5).json()["status"] not in JobStatus.FINISHED
            for j in api_jobs
        ):
            assert time.monotonic() < deadline, "the API's jobs never finished"
            time.sleep(0.5)
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(timeout=60)
        log.close()
    assert_library_whole(settings, {"v01.mp4", "v02.mp4", "v03.mp4"})
    with session_scope(settings) as s:
        assert {v.revision for v in s.query(Video)} == {1}  # nobody indexed a video twice
