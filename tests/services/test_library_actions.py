"""What the web UI asks of the library: uploads, cards, files that failed, re-indexing, removing
a video, and a copy of the video that a browser can play."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import session_scope
from core.models import (
    Event,
    Job,
    JobStatus,
    Segment,
    Summary,
    Video,
    VideoPath,
    VideoStatus,
)
from core.settings import Settings
from services import library
from services.ingest import save_upload, submit, upload_name
from tests.catalog_helpers import add_ready_video


def test_an_upload_keeps_its_name_in_its_own_folder_under_home(settings):
    a = save_upload(settings, "../../etc/My Holiday (2).mp4", b"abc")
    b = save_upload(settings, "My Holiday (2).mp4", io.BytesIO(b"xyz"))
    assert a.name == b.name == "My Holiday (2).mp4"
    assert a.parent != b.parent and a.parent.parent == settings.uploads_dir
    assert a.read_bytes() == b"abc" and b.read_bytes() == b"xyz"
    assert upload_name("a/b\\c:d*?.mkv") == "c_d_.mkv" and upload_name("...") == "upload"


def test_uploads_may_be_ingested_when_allowed_roots_are_set(tmp_path):
    settings = Settings(home=tmp_path / "home", allowed_roots=[tmp_path / "videos"])
    upload = save_upload(settings, "clip.mp4", b"not really a video")
    assert submit(settings, [upload], confine=True)  # a job, not a refusal
    with pytest.raises(Exception, match="outside the allowed roots"):
        submit(settings, [tmp_path / "elsewhere.mp4"], confine=True)


def _with_thumbnail(settings: Settings, video_id: str, index: int) -> Path:
    rel = f"{video_id}/job1-a1/{index:05d}.jpg"
    path = settings.thumbnails_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8jpeg")
    with session_scope(settings) as session:
        seg = session.scalar(
            select(Segment).where(Segment.video_id == video_id, Segment.index == index)
        )
        assert seg is not None
        seg.thumbnail = rel
    return path


def test_cards_carry_the_thumbnail_of_the_asked_moment(settings):
    a = add_ready_video(settings, "harbour", ["boats", "gulls", "nets"])
    b = add_ready_video(settings, "market", ["fish"])
    thumb = _with_thumbnail(settings, a, 2)
    cards = library.video_cards(settings, [b, a, "nope", a], moments={a: 2})
    assert list(cards) == [b, a]
    assert cards[a]["thumbnail"] == thumb and cards[a]["title"] == "harbour"
    assert cards[b]["thumbnail"] is None  # no picture on disk: the page shows a placeholder
    assert library.video_cards(settings, []) == {}


def test_suggestions_are_the_tags_seen_in_the_most_videos_and_folders_hold_ready_videos(settings):
    from core.db import session_scope as scope

    a = add_ready_video(settings, "a", ["x", "y"], folder="/v/one")
    b = add_ready_video(settings, "b", ["z"], folder="/v/two")
    add_ready_video(settings, "c", ["w"], folder="/v/three", status=VideoStatus.FAILED)
    with scope(settings) as session:
        for seg in session.scalars(select(Segment)):
            seg.tags = {a: "tram, cat", b: "cat"}.get(seg.video_id, "volcano")
    assert library.library_tags(settings) == ["cat", "tram"]
    assert library.library_tags(settings, limit=1) == ["cat"]
    assert library.library_folders(settings) == ["/v/one", "/v/two"]


def test_a_file_that_never_became_a_video_is_listed_with_its_reason_until_forgotten(settings):
    with session_scope(settings) as session:
        session.add_all(
            [
                Job(
                    path="/v/bad.mp4", status=JobStatus.FAILED, error="/v/bad.mp4: not a media file"
                ),
                Job(path="/v/fixed.mp4", status=JobStatus.FAILED, error="old"),
                Job(path="/v/fixed.mp4", status=JobStatus.SUCCEEDED, video_id="abc"),
            ]
        )
    failed = library.failed_files(settings)
    assert [(f["path"], f["error"]) for f in failed] == [
        ("/v/bad.mp4", "/v/bad.mp4: not a media file")
    ]
    assert library.forget_failed_file(settings, "/v/bad.mp4") == 1
    assert library.failed_files(settings) == []


def test_reindexing_takes_the_video_out_of_search_and_queues_a_job(settings, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "harbour").write_bytes(b"bytes")
    vid = add_ready_video(settings, "harbour", ["boats"], folder=str(folder))
    (job_id,) = library.reindex_video(settings, vid)
    with session_scope(settings) as session:
        video = session.get(Video, vid)
        job = session.get(Job, job_id)
        assert video is not None and job is not None
        assert video.status == VideoStatus.PENDING and job.path == str(folder / "harbour")
        # A second request while that job is queued is refused, not doubled.
        video.claimed_by_job = job_id
    with pytest.raises(library.Busy, match=f"job {job_id}"):
        library.reindex_video(settings, vid)


def test_reindexing_a_video_whose_file_is_gone_says_so(settings):
    vid = add_ready_video(settings, "gone", ["x"], folder="/nowhere")
    with pytest.raises(library.FileGone, match="gone"):
        library.reindex_video(settings, vid)
    with pytest.raises(LookupError):
        library.reindex_video(settings, "nope")


def test_removing_a_video_removes_its_rows_thumbnails_and_uploaded_file_only(settings, tmp_path):
    from core.users import add_user, record_event

    upload = save_upload(settings, "mine.mp4", b"uploaded")
    kept = tmp_path / "videos" / "theirs.mp4"
    kept.parent.mkdir()
    kept.write_bytes(b"pointed at")
    mine = add_ready_video(settings, "mine.mp4", ["a"], folder=str(upload.parent))
    theirs = add_ready_video(settings, "theirs.mp4", ["b"], folder=str(kept.parent))
    thumb = _with_thumbnail(settings, mine, 0)
    copy = library.browser_copy_path(settings, mine)
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"mp4")
    with session_scope(settings) as session:
        user, _ = add_user(session=session, name="ann")
        record_event(session=session, user_id=user.id, video_id=mine, kind="liked")
        session.add(
            Summary(video_id=mine, model="m", method="extractive", content_hash="h", text="t")
        )
        session.add(VideoPath(video_id=mine, path=str(upload)))

    library.delete_video(settings, mine)
    library.delete_video(settings, theirs)
    with session_scope(settings) as session:
        for table in (Video, Segment, Event, Summary, VideoPath):
            assert session.scalar(select(func.count()).select_from(table)) == 0, table
    assert not thumb.exists() and not copy.exists()
    assert not upload.exists() and not upload.parent.exists()
    assert kept.read_bytes() == b"pointed at"
    with pytest.raises(LookupError):
        library.delete_video(settings, mine)


def test_a_video_being_indexed_cannot_be_removed(settings):
    vid = add_ready_video(settings, "busy", ["x"], status=VideoStatus.PROCESSING)
    with session_scope(settings) as session:
        job = Job(path="/videos/busy", status=JobStatus.QUEUED, stage="queued")  # the workers'

        session.add(job)
        session.flush()
        video = session.get(Video, vid)
        assert video is not None
        video.claimed_by_job = job.id
    with pytest.raises(library.Busy):
        library.delete_video(settings, vid)
