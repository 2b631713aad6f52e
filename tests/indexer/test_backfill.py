"""What a catalog written before schema 0006 lacks: class beliefs from the stored clip features,
looks from the stored thumbnails, once, with new revisions so the index rewrites the points."""

from __future__ import annotations

import numpy as np
from PIL import Image
from sqlalchemy import select, update

from core.db import session_scope
from core.looks import looks_from_text
from core.models import Segment, Video
from core.vectors import open_vector_store
from core.vectors.sync import sync_from_catalog
from indexer.backfill import backfill_segments
from tests.catalog_helpers import add_ready_video


def fake_beliefs(calls: list[int]):  # type: ignore[no-untyped-def]
    """Stands in for the frame classifier: a segment believes in class (number of clips)."""

    def beliefs(clips):  # type: ignore[no-untyped-def]
        calls.append(len(clips))
        return [{len(c): 0.75} for c in clips]

    return beliefs


def test_old_segments_get_beliefs_and_looks_once_and_the_index_sees_them(catalog):
    first = add_ready_video(catalog, "a.mp4", ["one", "two"])
    second = add_ready_video(catalog, "b.mp4", ["three"], seed=1)
    # The first segment has a red thumbnail on disk; the others' thumbnails are gone.
    thumb = catalog.thumbnails_dir / first / "00000.jpg"
    thumb.parent.mkdir(parents=True)
    Image.fromarray(np.full((24, 32, 3), (220, 20, 20), np.uint8)).save(thumb)
    with session_scope(catalog) as session:
        session.execute(
            update(Segment)
            .where(Segment.video_id == first, Segment.index == 0)
            .values(thumbnail=f"{first}/00000.jpg")
        )
    store = open_vector_store(catalog)
    with session_scope(catalog) as session:
        sync_from_catalog(store, session)
    assert all(p["payload"]["beliefs"] == {} for p in store.points().values())

    calls: list[int] = []
    assert backfill_segments(catalog, fake_beliefs(calls)) == 3
    assert backfill_segments(catalog, fake_beliefs(calls)) == 0  # nothing left to do
    assert calls == [3]
    with session_scope(catalog) as session:
        rows = session.execute(
            select(Segment.video_id, Segment.index, Segment.class_beliefs, Segment.looks)
        ).all()
        revisions = dict(session.execute(select(Video.id, Video.revision)).all())
    assert [r[2] for r in rows] == ['{"2":0.75}'] * 3  # add_ready_video stores two clips
    looks = {(v, i): looks_from_text(text) for v, i, _, text in rows}
    assert looks[(first, 0)]["red"] > 0.9 and looks[(first, 0)]["blue"] == 0
    assert looks[(first, 1)] == {} and looks[(second, 0)] == {}  # no thumbnail: no looks
    assert revisions == {first: 2, second: 2}

    with session_scope(catalog) as session:
        report = sync_from_catalog(store, session)
    assert report.upserted == 3
    payloads = {
        (p["payload"]["video_id"], p["payload"]["index"]): p["payload"]
        for p in store.points().values()
    }
    assert all(p["beliefs"] == {"2": 0.75} for p in payloads.values())
    assert payloads[(first, 0)]["looks"]["red"] > 0.9


def test_reindex_reads_text_and_people_in_old_thumbnails_once_with_progress(catalog):
    from core.people import people_from_text
    from indexer.backfill import backfill_seen
    from indexer.detect import Seen

    first = add_ready_video(catalog, "a.mp4", ["one", "[seen: street sign]"])
    second = add_ready_video(catalog, "b.mp4", ["three"], seed=1)
    thumb = catalog.thumbnails_dir / first / "00001.jpg"
    thumb.parent.mkdir(parents=True)
    Image.fromarray(np.full((24, 32, 3), 200, np.uint8)).save(thumb)
    with session_scope(catalog) as session:
        session.execute(
            update(Segment)
            .where(Segment.video_id == first, Segment.index == 1)
            # A silent segment: nothing said, its caption only what the classifier saw.
            .values(thumbnail=f"{first}/00001.jpg", transcript="")
        )
        old_vector = session.scalar(
            select(Segment.text_vector).where(Segment.video_id == first, Segment.index == 1)
        )
    looked_at: list[int] = []

    def detect(frames):  # type: ignore[no-untyped-def]
        looked_at.append(len(frames))
        if not frames:
            return Seen([], {})
        return Seen(["NO PARKING"], {"people": 2, "faces": 1, "largest_face": 0.2})

    embedded: list[list[str]] = []

    def embed_text(captions):  # type: ignore[no-untyped-def]
        embedded.append(captions)
        return np.ones((len(captions), 8), np.float32)

    progress: list[tuple[int, int]] = []
    changed = backfill_seen(
        catalog,
        detect=detect,
        embed_text=embed_text,
        on_progress=lambda d, t: progress.append((d, t)),
    )
    assert changed == 3 and progress == [(3, 3)]
    assert sorted(looked_at) == [0, 0, 1]  # two segments have no thumbnail on disk
    # Only the segment with text gets a new caption, and a text vector for it.
    assert embedded == [["[on screen: NO PARKING]\n[seen: street sign]"]]
    assert backfill_seen(catalog, detect=detect, embed_text=embed_text) == 0  # done once
    with session_scope(catalog) as session:
        rows = {
            (v, i): (text, people, caption, vector)
            for v, i, text, people, caption, vector in session.execute(
                select(
                    Segment.video_id,
                    Segment.index,
                    Segment.screen_text,
                    Segment.people,
                    Segment.caption,
                    Segment.text_vector,
                )
            )
        }
        revisions = dict(session.execute(select(Video.id, Video.revision)).all())
    text, people, caption, vector = rows[(first, 1)]
    assert text == "NO PARKING" and people_from_text(people)["people"] == 2
    assert vector != old_vector
    # Looked for without a picture: marked done ("" and {}), claiming nobody and nothing read.
    assert rows[(second, 0)][:2] == ("", "{}") and people_from_text("{}") == {}
    assert revisions == {first: 2, second: 2}
    store = open_vector_store(catalog)
    with session_scope(catalog) as session:
        sync_from_catalog(store, session)
    payload = next(
        p["payload"]
        for p in store.points().values()
        if (p["payload"]["video_id"], p["payload"]["index"]) == (first, 1)
    )
    assert payload["on_screen"] == ["NO PARKING"] and payload["people"]["faces"] == 1


def test_with_the_stages_off_reindex_reads_nothing(catalog):
    from indexer.backfill import backfill_seen

    add_ready_video(catalog, "a.mp4", ["one"])
    off = catalog.model_copy(update={"screen_text": False, "people": False})

    def detect(frames):  # type: ignore[no-untyped-def]
        raise AssertionError("no detector runs when both stages are off")

    assert backfill_seen(off, detect=detect) == 0


def test_a_detector_that_fails_in_reindex_leaves_the_segment_for_the_next_run(catalog):
    from indexer.backfill import backfill_seen
    from indexer.detect import Seen

    add_ready_video(catalog, "a.mp4", ["one", "two"])
    calls: list[int] = []

    def failing(frames):  # type: ignore[no-untyped-def]
        calls.append(len(frames))
        return Seen(None, None)  # what SegmentDetectors returns when both detectors fail

    assert backfill_seen(catalog, detect=failing) == 0 and len(calls) == 2  # each looked at once
    with session_scope(catalog) as session:
        assert set(session.execute(select(Segment.screen_text, Segment.people)).all()) == {
            (None, None)
        }
        assert set(session.scalars(select(Video.revision))) == {1}  # nothing changed

    def working(frames):  # type: ignore[no-untyped-def]
        return Seen([], {})

    assert backfill_seen(catalog, detect=working) == 2  # the next run does them
