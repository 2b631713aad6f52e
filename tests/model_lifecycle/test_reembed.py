"""Re-embedding into a pending space and the swap: catalog transactions on SQLite and
PostgreSQL, commits racing a swap, stale jobs, and a re-embed task through a real Celery worker."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from core.arrays import pack_f32, unpack_f32
from core.db import session_scope
from core.models import EmbeddingSpace, Job, JobStatus, Segment, Video, VideoStatus
from core.settings import Settings
from indexer.sample import PlannedSegment
from model_lifecycle.active import ActiveEmbedder, read_active
from model_lifecycle.reembed import reembed_video, try_swap
from model_lifecycle.spaces import (
    ModelRef,
    begin_transition,
    set_next_vectors,
    space_progress,
    start_pending_space,
    swap_pending_space,
    videos_missing_space,
)
from tests.catalog_helpers import add_ready_video
from videobert.options import model_options

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request, tmp_path) -> Settings:
    if request.param == "sqlite":
        return Settings(home=tmp_path / "home")
    return Settings(home=tmp_path / "home", database_url=request.getfixturevalue("pg_url"))


def vectors_of(settings: Settings) -> dict[tuple[str, int], tuple]:
    with session_scope(settings) as s:
        return {
            (x.video_id, x.index): (
                unpack_f32(x.video_vector),
                unpack_f32(x.text_vector),
                x.next_video_vector,
                x.video.revision,
                x.video.embedding_model,
            )
            for x in s.query(Segment)
        }


def fill(settings: Settings, video_id: str, name: str, value: float) -> None:
    with session_scope(settings) as s:
        n = s.query(Segment).filter_by(video_id=video_id).count()
        blob = pack_f32(np.full(8, value, np.float32))
        set_next_vectors(
            session=s, video_id=video_id, name=name, vectors={i: (blob, blob) for i in range(n)}
        )


def test_the_swap_waits_for_every_ready_video_then_moves_them_all_at_once(backend):
    settings = backend
    a = add_ready_video(settings, "a.mp4", ["one", "two"], seed=1)
    b = add_ready_video(settings, "b.mp4", ["three"], seed=2)
    add_ready_video(settings, "c.mp4", ["failed"], seed=3, status=VideoStatus.FAILED)
    before = vectors_of(settings)
    with session_scope(settings) as s:
        start_pending_space(session=s, name="new", checkpoint="models/videobert/run-x/final")
    fill(settings, a, "new", 0.5)
    with session_scope(settings) as s:
        assert videos_missing_space(session=s, name="new") == [b]
        assert space_progress(session=s, name="new") == (1, 2)
        assert swap_pending_space(session=s) is None  # b is missing: nothing moves
    for key, row in vectors_of(settings).items():
        assert np.array_equal(row[0], before[key][0]) and row[3:] == before[key][3:]

    fill(settings, b, "new", 0.25)
    with session_scope(settings) as s:
        assert swap_pending_space(session=s) == ModelRef("new", "models/videobert/run-x/final")
    after = vectors_of(settings)
    for key, (video, text, nxt, revision, model) in after.items():
        if key[0] in (a, b):
            assert np.all(video == (0.5 if key[0] == a else 0.25)) and np.array_equal(video, text)
            assert nxt is None and revision == before[key][3] + 1 and model == "new"
        else:  # a failed video has no place in any space: untouched
            assert np.array_equal(video, before[key][0]) and revision == before[key][3]
    with session_scope(settings) as s:
        spaces = {e.role: (e.name, e.checkpoint) for e in s.query(EmbeddingSpace)}
        assert spaces == {"active": ("new", "models/videobert/run-x/final")}
        assert swap_pending_space(session=s) is None  # nothing pending any more


def test_a_new_pending_space_drops_the_vectors_of_the_old_one(backend):
    settings = backend
    a = add_ready_video(settings, "a.mp4", ["one"])
    with session_scope(settings) as s:
        start_pending_space(session=s, name="first", checkpoint=None)
    fill(settings, a, "first", 1.0)
    with session_scope(settings) as s:
        start_pending_space(session=s, name="second", checkpoint=None)
    with session_scope(settings) as s:
        video = s.get(Video, a)
        assert video.next_embedding_model is None
        assert all(x.next_video_vector is None for x in video.segments)
        assert videos_missing_space(session=s, name="second") == [a]


# ---------------------------------------------------------------------- writers against a swap


class FakeSpaceEmbedder:
    """Deterministic vectors per space name: which space wrote a vector is plain to see."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.value = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) / 65536

    def embed_video(self, segments):  # type: ignore[no-untyped-def]
        return np.full((len(segments), 8), self.value, np.float32)

    def embed_text(self, texts):  # type: ignore[no-untyped-def]
        return np.full((len(texts), 8), -self.value, np.float32)


class TaglessActive(ActiveEmbedder):
    def visual_tags(self, segments):  # type: ignore[no-untyped-def]
        return [[] for _ in segments]

    def caption_words(self, segments):  # type: ignore[no-untyped-def]
        return [[] for _ in segments]

    def class_beliefs(self, segments):  # type: ignore[no-untyped-def]
        return [{} for _ in segments]


@pytest.fixture
def fake_spaces(monkeypatch):
    import indexer.embed
    import model_lifecycle.reembed

    def space_embedder(settings, ref):  # type: ignore[no-untyped-def]
        return FakeSpaceEmbedder(ref.name if ref else "configured")

    # Both the re-embed and an ingest's embed step build a space's embedder.
    monkeypatch.setattr(model_lifecycle.reembed, "space_embedder", space_embedder)
    monkeypatch.setattr(indexer.embed, "space_embedder", space_embedder)
    return FakeSpaceEmbedder


def claimed_video(settings: Settings, name: str) -> tuple[str, int, list[PlannedSegment]]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    with session_scope(settings) as s:
        job = Job(path=f"/videos/{name}", status=JobStatus.RUNNING)
        s.add(job)
        s.flush()
        s.add(
            Video(
                id=digest[:16],
                content_hash=digest,
                source_path=f"/videos/{name}",
                title=name,
                size_bytes=1,
                status=VideoStatus.PROCESSING,
                claimed_by_job=job.id,
                revision=0,
            )
        )
        job_id = job.id
    planned = [
        PlannedSegment(i, i, 3.0 * i, 3.0 * (i + 1), np.ones((2, 4), np.float32), b"jpeg")
        for i in range(2)
    ]
    return digest[:16], job_id, planned


def commit_like_the_pipeline(settings, spaces, video_id, job_id, embedded, tmp_path) -> int:  # type: ignore[no-untyped-def]
    from indexer.commit import commit_in_spaces
    from indexer.embed import MAX_SPACE_RETRIES, SpacesMoved

    moved = 0
    for _ in range(MAX_SPACE_RETRIES):
        try:
            with session_scope(settings) as s:
                commit_in_spaces(
                    s,
                    spaces,
                    video_id=video_id,
                    job_id=job_id,
                    segments=embedded,
                    thumbnails_root=tmp_path,
                    thumbnail_folder=tmp_path / video_id,
                )
            return moved
        except SpacesMoved as exc:
            moved += 1
            spaces.add(exc.refs)
    raise AssertionError("never committed")


def test_an_ingest_that_embedded_before_a_swap_commits_in_the_new_space(
    backend, fake_spaces, tmp_path
):
    from indexer.embed import SpaceVectors

    settings = backend
    video_id, job_id, planned = claimed_video(settings, "racing.mp4")
    spaces = SpaceVectors(settings, TaglessActive(settings))
    embedded = spaces.embed(planned, ["hello", ""])
    assert list(spaces.vectors) == ["configured"]

    begin_transition(settings, ModelRef("trained", "models/videobert/run-1/final"))
    assert try_swap(settings).swapped  # no ready video yet: the swap is immediate
    assert read_active(settings.home) == ModelRef("trained", "models/videobert/run-1/final")

    assert commit_like_the_pipeline(settings, spaces, video_id, job_id, embedded, tmp_path) == 1
    rows = vectors_of(settings)
    expected = fake_spaces("trained").value
    assert all(
        np.allclose(v, expected) and np.allclose(t, -expected) and m == "trained"
        for v, t, _, _, m in rows.values()
    )


def test_an_ingest_committed_during_a_transition_writes_both_spaces(backend, fake_spaces, tmp_path):
    from indexer.embed import SpaceVectors

    settings = backend
    add_ready_video(settings, "old.mp4", ["x"])
    video_id, job_id, planned = claimed_video(settings, "new.mp4")
    spaces = SpaceVectors(settings, TaglessActive(settings))
    embedded = spaces.embed(planned, ["hello", "world"])
    begin_transition(settings, ModelRef("trained", None))  # after the embed, before the commit

    assert commit_like_the_pipeline(settings, spaces, video_id, job_id, embedded, tmp_path) == 1
    with session_scope(settings) as s:
        video = s.get(Video, video_id)
        assert video.embedding_model == "configured" and video.next_embedding_model == "trained"
        nxt = [unpack_f32(x.next_video_vector) for x in video.segments]
    assert np.allclose(nxt, fake_spaces("trained").value)
    attempt = try_swap(settings)
    assert not attempt.swapped and attempt.missing == 1  # only the older video is missing


def test_a_stale_or_overtaken_re_embed_writes_nothing(backend, fake_spaces):

    settings = backend
    a = add_ready_video(settings, "a.mp4", ["one"])
    assert reembed_video(settings, a) == "stale"  # nothing pending
    begin_transition(settings, ModelRef("first", None))
    begin_transition(settings, ModelRef("second", None))
    assert reembed_video(settings, a, space="first") == "stale"  # a task of an older model
    assert reembed_video(settings, "0000000000000000", space="second") == "not ready"
    assert reembed_video(settings, a, space="second") == "done"
    with session_scope(settings) as s:
        assert s.get(Video, a).next_embedding_model == "second"


# ---------------------------------------------------------------------- a real Celery worker


def _add_video_with_features(settings: Settings, name: str, captions: list[str]) -> str:
    vid = add_ready_video(settings, name, captions, dim=384)
    rng = np.random.default_rng(len(name))
    from core.arrays import pack_f16_matrix

    with session_scope(settings) as s:
        for x in s.query(Segment).filter_by(video_id=vid):
            x.clip_features = pack_f16_matrix(np.abs(rng.normal(size=(3, 1280))))
    return vid


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.real_models
def test_re_embed_tasks_run_through_a_celery_worker_and_the_library_swaps(
    tmp_path, pg_url, redis_url
):
    import torch

    from tests.services.test_served import Workers
    from videobert.checkpoint import checkpoint_name, save_checkpoint
    from videobert.embedder import checkpoint_embedder, shared_encoders
    from videobert.text import default_text_model_path
    from videobert.zero_shot import build_zero_shot, shipped_parts, zero_shot_config

    queue = f"test-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        home=tmp_path / "home", database_url=pg_url, broker_url=redis_url, queue=queue, device="cpu"
    )
    videos = [
        _add_video_with_features(settings, "a.mp4", ["a cat on a sofa", "a cup of coffee"]),
        _add_video_with_features(settings, "b.mp4", ["a rocket at dusk"]),
    ]
    # A "trained" model: the zero-shot one with its projection turned, saved as a checkpoint.
    backbone = default_text_model_path()
    parts = shipped_parts(shared_encoders(model_options(settings))[0], backbone)
    config = zero_shot_config(backbone, temperature=3.0, top_k=50, video_input="continuous")
    model = build_zero_shot(parts, config)
    with torch.no_grad():
        model.projection.weight.copy_(torch.linalg.qr(torch.randn(384, 384))[0])
    folder = settings.home / "models" / "videobert" / "run-test" / "final"
    save_checkpoint(folder, model, codebook=parts.codebook, step=1, tokenizer=parts.tokenizer)
    ref = ModelRef(checkpoint_name(folder), "models/videobert/run-test/final")
    begin_transition(settings, ref)

    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDSEARCH_")}
    env.update(
        VIDSEARCH_HOME=str(settings.home),
        VIDSEARCH_DATABASE_URL=pg_url,
        VIDSEARCH_BROKER_URL=redis_url,
        VIDSEARCH_QUEUE=queue,
        VIDSEARCH_DEVICE="cpu",
        PYTHONPATH=str(REPO),
    )
    (tmp_path / "logs").mkdir()
    workers = Workers(env, tmp_path / "logs")
    try:
        workers.start("reembed")
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "ui.cli", "train", "--reembed-only", "--wait", "--json",
             "--timeout", "240"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr + workers.logs()
        assert '"swapped": true' in done.stdout and '"queued": 2' in done.stdout, done.stdout
        assert time.monotonic() - started < 240
    finally:
        workers.stop_all()
        import redis

        redis.Redis.from_url(redis_url).delete(queue, "unacked", "unacked_index")

    trained = checkpoint_embedder(model_options(settings), folder)
    with session_scope(settings) as s:
        for vid in videos:
            video = s.get(Video, vid)
            assert video.embedding_model == ref.name and video.revision == 2
            clips = [x.clip_features for x in video.segments]
            from core.arrays import unpack_f16_matrix

            expected = trained.embed_video([unpack_f16_matrix(c) for c in clips])
            got = np.stack([unpack_f32(x.video_vector) for x in video.segments])
            np.testing.assert_allclose(got, expected, atol=1e-4)
            texts = trained.embed_text([x.caption for x in video.segments])
            got_text = np.stack([unpack_f32(x.text_vector) for x in video.segments])
            np.testing.assert_allclose(got_text, texts, atol=1e-4)
    assert read_active(settings.home) == ref  # the worker that swapped told the readers
