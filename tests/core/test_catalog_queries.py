"""The catalog's repository functions that the services call instead of writing queries, and
the vector index's diff against the catalog."""

from __future__ import annotations

from core import catalog as repo
from core.db import session_scope
from core.models import Job, JobStatus, Video, VideoStatus
from core.settings import Settings
from core.vectors import index_diff, point_id, sync_from_catalog
from core.vectors.numpy_engine import NumpyStore
from tests.catalog_helpers import add_ready_video


def test_failed_file_jobs_are_each_files_latest_job_when_it_failed_without_a_video(catalog):
    with session_scope(catalog) as session:
        session.add_all(
            [
                Job(path="/v/bad.mp4", status=JobStatus.FAILED, error="first"),
                Job(path="/v/bad.mp4", status=JobStatus.FAILED, error="second"),
                Job(path="/v/fixed.mp4", status=JobStatus.FAILED, error="old"),
                Job(path="/v/fixed.mp4", status=JobStatus.SUCCEEDED, video_id="abc"),
                Job(path="/v/other.mp4", status=JobStatus.FAILED, error="later"),
            ]
        )
    with session_scope(catalog) as session:
        failed = repo.failed_file_jobs(session=session)
        assert [(j.path, j.error) for j in failed] == [
            ("/v/other.mp4", "later"),
            ("/v/bad.mp4", "second"),
        ]
        assert len(repo.failed_file_jobs(session=session, limit=1)) == 1
        assert repo.delete_failed_file_jobs(session=session, path="/v/bad.mp4") == 2
        assert repo.delete_failed_file_jobs(session=session, path="/v/fixed.mp4") == 1


def test_a_removed_video_takes_its_jobs_and_the_claiming_job_is_found(catalog):
    vid = add_ready_video(catalog, "a.mp4", ["one", "two"])
    keep = add_ready_video(catalog, "b.mp4", ["three"], seed=1)
    with session_scope(catalog) as session:
        job = Job(path="/videos/a.mp4", video_id=vid)
        session.add_all([job, Job(path="/videos/b.mp4", video_id=keep)])
        session.flush()
        video = repo.get_video(session=session, video_id=vid, for_update=True)
        assert video is not None and repo.claiming_job(session=session, video=video) is None
        video.claimed_by_job = job.id
        assert repo.claiming_job(session=session, video=video) is job
    with session_scope(catalog) as session:
        video = repo.get_video(session=session, video_id=vid)
        assert video is not None
        repo.remove_video(session=session, video=video)
    with session_scope(catalog) as session:
        assert repo.get_video(session=session, video_id=vid) is None
        assert [j.video_id for j in repo.list_jobs(session=session)] == [keep]
        assert repo.segment_counts(session=session, video_ids=[vid, keep]) == {vid: 0, keep: 1}


def test_the_ready_counts_leave_out_videos_that_are_not_ready(catalog):
    add_ready_video(catalog, "a.mp4", ["one", "two"])
    add_ready_video(catalog, "b.mp4", ["three"], seed=1)
    add_ready_video(catalog, "c.mp4", ["four"], seed=2, status=VideoStatus.FAILED)
    with session_scope(catalog) as session:
        assert repo.ready_counts(session=session) == repo.ReadyCounts(videos=2, segments=3)
        assert repo.count_ready_segments(session=session) == 3
        assert sorted(repo.ready_source_paths(session=session)) == [
            "/videos/a.mp4",
            "/videos/b.mp4",
        ]
        ids = [v.id for v in repo.ready_videos(session=session)]
        assert ids == sorted(ids) and len(ids) == 2


def test_segments_are_read_by_index_and_their_thumbnails_by_moment(catalog):
    vid = add_ready_video(catalog, "a.mp4", ["zero", "one", "two"])
    with session_scope(catalog) as session:
        video = repo.get_video(session=session, video_id=vid)
        assert video is not None
        for seg in video.segments:
            seg.thumbnail = f"{vid}/{seg.index}.jpg" if seg.index != 1 else None
    with session_scope(catalog) as session:
        picked = repo.segments_at(session=session, video_id=vid, indexes=[2, 0, 9])
        assert [s.index for s in picked] == [0, 2]
        assert [d.transcript for d in repo.segment_details(session=session, video_id=vid)] == [
            "zero",
            "one",
            "two",
        ]
        assert repo.segment_thumbnail(session=session, video_id=vid, index=2) == f"{vid}/2.jpg"
        assert repo.segment_thumbnail(session=session, video_id=vid, index=7) is None
        thumbs = repo.segment_thumbnails(session=session, moments=[(vid, 0), (vid, 1), (vid, 5)])
        assert thumbs == {(vid, 0): f"{vid}/0.jpg", (vid, 1): None}
        rows = repo.segment_vectors(session=session, video_ids=[vid])
        assert sorted((s, e) for _, s, e, _ in rows) == [(0.0, 3.0), (3.0, 6.0), (6.0, 9.0)]


def test_the_index_diff_names_missing_stale_and_orphaned_points(settings: Settings):
    a = add_ready_video(settings, "a.mp4", ["one", "two"])
    b = add_ready_video(settings, "b.mp4", ["three"], seed=1)
    c = add_ready_video(settings, "c.mp4", ["four"], seed=2)
    store = NumpyStore()
    with session_scope(settings) as session:
        assert set(index_diff(store, session).changed_videos) == {a, b, c}
        sync_from_catalog(store, session)
        assert index_diff(store, session).changed_videos == []
        stale, gone = session.get(Video, b), session.get(Video, c)
        assert stale is not None and gone is not None
        stale.revision += 1  # its points were written from the revision before
        gone.status = VideoStatus.FAILED  # its points belong to no ready video now
    store.delete([point_id(a, 1)])  # one point of a is lost
    with session_scope(settings) as session:
        diff = index_diff(store, session)
    assert diff.missing_videos == [a]
    assert diff.stale_videos == [b]
    assert diff.orphaned_points == [point_id(c, 0)]
    assert sorted(diff.changed_videos) == sorted([a, b])
    assert len(diff.expected) == 3 and len(diff.actual) == 3
