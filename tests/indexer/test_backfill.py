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
