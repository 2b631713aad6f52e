"""Class beliefs for a catalog written before they were kept: computed from the stored clip
features, once, with new revisions so the index rewrites the points."""

from __future__ import annotations

from sqlalchemy import select

from core.db import session_scope
from core.models import Segment, Video
from core.vectors import open_vector_store
from core.vectors.sync import sync_from_catalog
from indexer.backfill import backfill_class_beliefs
from tests.catalog_helpers import add_ready_video


def fake_beliefs(calls: list[int]):  # type: ignore[no-untyped-def]
    """Stands in for the frame classifier: a segment believes in class (number of clips)."""

    def beliefs(clips):  # type: ignore[no-untyped-def]
        calls.append(len(clips))
        return [{len(c): 0.75} for c in clips]

    return beliefs


def test_old_segments_get_beliefs_once_and_the_index_sees_them(catalog):
    first = add_ready_video(catalog, "a.mp4", ["one", "two"])
    second = add_ready_video(catalog, "b.mp4", ["three"], seed=1)
    store = open_vector_store(catalog)
    with session_scope(catalog) as session:
        sync_from_catalog(store, session)
    assert all(p["payload"]["beliefs"] == {} for p in store.points().values())

    calls: list[int] = []
    assert backfill_class_beliefs(catalog, fake_beliefs(calls)) == 3
    assert backfill_class_beliefs(catalog, fake_beliefs(calls)) == 0  # nothing left to do
    assert calls == [3]
    with session_scope(catalog) as session:
        stored = session.scalars(select(Segment.class_beliefs)).all()
        revisions = dict(session.execute(select(Video.id, Video.revision)).all())
    assert stored == ['{"2":0.75}'] * 3  # add_ready_video stores two clips per segment
    assert revisions == {first: 2, second: 2}

    with session_scope(catalog) as session:
        report = sync_from_catalog(store, session)
    assert report.upserted == 3
    assert all(p["payload"]["beliefs"] == {"2": 0.75} for p in store.points().values())
