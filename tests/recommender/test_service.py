"""recommender.service.Recommender over a real catalog (SQLite and PostgreSQL): personal ranking
with reasons, cold start, exclusion of what was seen, freshness, and continue watching."""

from __future__ import annotations

import pytest

from core import users
from core.db import session_scope
from core.models import Video
from core.settings import Settings
from core.users import UnknownUser
from recommender.library import VideoLibrary
from recommender.rank import RankWeights
from recommender.service import Recommender
from tests.recommender.helpers import add_topic_video, topic

COOKING, LECTURES, SPORTS = 0, 1, 2


def _user(settings: Settings, name: str) -> int:
    with session_scope(settings) as s:
        return users.add_user(session=s, name=name)[0].id


def _watch(settings: Settings, user_id: int, video_id: str, *kinds: str, **kw) -> None:
    with session_scope(settings) as s:
        for kind in kinds:
            users.record_event(session=s, user_id=user_id, video_id=video_id, kind=kind, **kw)


def _library(settings: Settings) -> dict[str, str]:
    titles = {}
    for t, name in [(COOKING, "cooking"), (LECTURES, "lecture"), (SPORTS, "sports")]:
        for i in range(4):
            title = f"{name} {i}"
            titles[title] = add_topic_video(settings, title, topic(t), seed=10 * t + i)
    return titles


def test_three_cooking_videos_and_a_skipped_lecture_bring_more_cooking_first(catalog):
    v = _library(catalog)
    ana = _user(catalog, "ana")
    for i in range(3):
        _watch(catalog, ana, v[f"cooking {i}"], "started", "completed")
    _watch(catalog, ana, v["lecture 0"], "started", "skipped")
    got = Recommender(catalog).recommend(user_id=ana, limit=5)
    assert got[0].video_id == v["cooking 3"]
    assert got[0].reason_kind == "content"
    assert got[0].reason in {f"because you watched cooking {i}" for i in range(3)}
    assert got[0].because_video_id in {v[f"cooking {i}"] for i in range(3)}
    seen = {v["cooking 0"], v["cooking 1"], v["cooking 2"], v["lecture 0"]}
    assert not seen & {r.video_id for r in got}
    # Away from the skipped lecture: the other lectures score below the sports videos.
    score = {r.title: r.score for r in Recommender(catalog).recommend(user_id=ana, limit=8)}
    assert len(score) == 8
    assert min(score[f"sports {i}"] for i in range(4)) > max(
        score[f"lecture {i}"] for i in (1, 2, 3)
    )
    shown = got[0].as_dict()
    assert set(shown) >= {"video_id", "path", "title", "score", "reason"}
    assert shown["path"] == "/videos/cooking 3"


def test_a_new_user_gets_the_popular_videos_with_that_reason(catalog):
    v = _library(catalog)
    for n in range(4):
        other = _user(catalog, f"viewer{n}")
        _watch(catalog, other, v["sports 2"], "started", "completed")
        if n < 2:
            _watch(catalog, other, v["lecture 3"], "started")
    newcomer = _user(catalog, "newcomer")
    got = Recommender(catalog).recommend(user_id=newcomer, limit=3)
    assert [r.video_id for r in got[:2]] == [v["sports 2"], v["lecture 3"]]
    assert {r.reason for r in got[:2]} == {"popular in your library"}
    assert got[0].score > got[1].score > got[2].score
    assert got[2].reason == "in your library"  # nobody watched it and it is not new


def test_in_a_library_nobody_has_watched_yet_new_videos_come_first_and_say_so(catalog):
    old = add_topic_video(catalog, "old", topic(0), days_old=200)
    fresh = add_topic_video(catalog, "fresh", topic(1), days_old=1, seed=1)
    ana = _user(catalog, "ana")
    got = Recommender(catalog).recommend(user_id=ana, limit=5)
    assert [(r.video_id, r.reason) for r in got] == [(fresh, "new"), (old, "in your library")]


def test_seen_videos_and_the_one_just_finished_never_come_back(catalog):
    v = _library(catalog)
    ana = _user(catalog, "ana")
    kinds = ["completed", "liked", "disliked", "skipped", "started"]
    touched = [v[f"cooking {i}"] for i in range(4)] + [v["sports 0"]]
    for vid, kind in zip(touched, kinds, strict=True):
        _watch(catalog, ana, vid, kind)
    got = Recommender(catalog).recommend(user_id=ana, limit=100)
    assert len(got) == 12 - len(touched)
    assert not set(touched) & {r.video_id for r in got}


def test_people_who_watched_the_same_videos_bring_each_other_theirs(catalog):
    # Every video its own direction: content alone cannot link "b" to "a".
    vids = {
        n: add_topic_video(catalog, n, topic(i), seed=i, noise=0.0) for i, n in enumerate("abcdefg")
    }
    for n in range(5):
        fan = _user(catalog, f"fan{n}")
        _watch(catalog, fan, vids["a"], "completed")
        _watch(catalog, fan, vids["b"], "liked")
    ana = _user(catalog, "ana")
    _watch(catalog, ana, vids["a"], "completed")
    got = Recommender(catalog, refresh_seconds=0).recommend(user_id=ana, limit=3)
    assert got[0].video_id == vids["b"]
    assert got[0].reason == "people who watched a also watched this"
    assert got[0].because_video_id == vids["a"]


def test_a_liked_video_is_named_as_liked(catalog):
    v = _library(catalog)
    ana = _user(catalog, "ana")
    _watch(catalog, ana, v["sports 1"], "liked")
    assert (
        Recommender(catalog).recommend(user_id=ana, limit=1)[0].reason
        == "because you liked sports 1"
    )


def test_a_video_started_and_not_finished_is_in_continue_watching_not_in_recommendations(catalog):
    v = _library(catalog)
    ana = _user(catalog, "ana")
    _watch(catalog, ana, v["lecture 2"], "started", position=0.0)
    _watch(catalog, ana, v["lecture 2"], "progress", position=4.5)
    rec = Recommender(catalog)
    assert v["lecture 2"] not in {r.video_id for r in rec.recommend(user_id=ana, limit=100)}
    [row] = rec.continue_watching(user_id=ana)
    assert (row.video.id, row.position) == (v["lecture 2"], 4.5)
    assert users.continue_summary(row)["title"] == "lecture 2"


def test_a_video_indexed_after_the_first_call_is_recommended_by_the_next(catalog):
    add_topic_video(catalog, "cooking 0", topic(COOKING))
    ana = _user(catalog, "ana")
    rec = Recommender(catalog, library=VideoLibrary(catalog, check_seconds=0))
    assert len(rec.recommend(user_id=ana)) == 1
    later = add_topic_video(catalog, "cooking 1", topic(COOKING), seed=1, days_old=0)
    assert later in {r.video_id for r in rec.recommend(user_id=ana)}


def test_new_vectors_for_a_video_move_its_recommendations(catalog):
    v = _library(catalog)
    ana = _user(catalog, "ana")
    _watch(catalog, ana, v["cooking 0"], "completed")
    rec = Recommender(catalog, library=VideoLibrary(catalog, check_seconds=0))
    assert rec.recommend(user_id=ana, limit=1)[0].title.startswith("cooking")
    # Re-embedded (as after `vidsearch train`): sports 3 now looks like cooking, and the
    # other cooking videos like lectures.
    from sqlalchemy import select

    from core.arrays import pack_f32
    from core.models import Segment

    with session_scope(catalog) as s:
        for title, t in [
            ("sports 3", COOKING),
            ("cooking 1", LECTURES),
            ("cooking 2", LECTURES),
            ("cooking 3", LECTURES),
        ]:
            for seg in s.scalars(select(Segment).where(Segment.video_id == v[title])):
                seg.video_vector = pack_f32(topic(t))
            s.get(Video, v[title]).revision += 1
    assert rec.recommend(user_id=ana, limit=1)[0].title == "sports 3"


def test_the_content_seam_receives_the_users_positive_and_negative_vectors(catalog):
    v = _library(catalog)
    ana = _user(catalog, "ana")
    _watch(catalog, ana, v["cooking 0"], "completed")
    _watch(catalog, ana, v["lecture 0"], "disliked")
    calls = []

    def remote(snap):
        def search(positive, positive_weights, negative, negative_weights, limit):
            calls.append((positive.shape, negative.shape, limit))
            return {v["sports 0"]: 5.0}  # what a served index might answer

        return search

    got = Recommender(catalog, content_search=remote).recommend(user_id=ana, limit=2)
    assert calls == [((1, 16), (1, 16), RankWeights().content_candidates)]
    assert got[0].video_id == v["sports 0"] and got[0].reason_kind == "content"


def test_an_unknown_user_or_a_bad_limit_is_refused(catalog):
    _library(catalog)
    rec = Recommender(catalog)
    with pytest.raises(UnknownUser, match="user 99"):
        rec.recommend(user_id=99)
    with pytest.raises(UnknownUser, match="user 99"):
        rec.continue_watching(user_id=99)
    ana = _user(catalog, "ana")
    for bad in (0, 101, -1):
        with pytest.raises(ValueError, match=f"limit {bad}"):
            rec.recommend(user_id=ana, limit=bad)


def test_an_empty_library_recommends_nothing(catalog):
    ana = _user(catalog, "ana")
    assert Recommender(catalog).recommend(user_id=ana) == []
    assert Recommender(catalog).continue_watching(user_id=ana) == []


def test_a_crowded_topic_does_not_fill_the_top_when_the_user_likes_two(settings):
    # Ten near-identical cooking videos; the user liked one and finished a sports video.
    cooking = [
        add_topic_video(settings, f"c{i}", topic(COOKING), seed=i, noise=0.02) for i in range(10)
    ]
    sports = [add_topic_video(settings, f"s{i}", topic(SPORTS), seed=50 + i) for i in range(2)]
    ana = _user(settings, "ana")
    _watch(settings, ana, cooking[0], "liked")
    _watch(settings, ana, sports[0], "completed")
    plain = Recommender(settings, weights=RankWeights(mmr_trade_off=1.0))
    varied = Recommender(settings)  # the default trade-off
    assert [r.title[0] for r in plain.recommend(user_id=ana, limit=3)] == ["c", "c", "c"]
    top = varied.recommend(user_id=ana, limit=3)
    assert top[0].title.startswith("c") and sports[1] in {r.video_id for r in top}
    assert next(r.reason for r in top if r.video_id == sports[1]) == "because you watched s0"


def test_a_video_pulled_up_only_by_moving_away_from_a_dislike_gives_its_next_reason(catalog):
    lecture = add_topic_video(catalog, "lecture", topic(LECTURES))
    calm = add_topic_video(catalog, "calm", -topic(LECTURES), seed=1)  # the lecture's opposite
    quiet = add_topic_video(catalog, "quiet", -topic(LECTURES), seed=2)
    for n in range(3):
        _watch(catalog, _user(catalog, f"viewer{n}"), calm, "completed")
    ana = _user(catalog, "ana")
    _watch(catalog, ana, lecture, "disliked")
    got = {r.video_id: r for r in Recommender(catalog).recommend(user_id=ana)}
    assert got[calm].reason == "popular in your library" and got[calm].because_video_id is None
    assert got[quiet].reason == "in your library"
    assert got[calm].score > 0.5 * 0.9  # the content signal did count, only it names nobody


def test_the_score_shown_falls_down_the_list_as_the_order_does(catalog):
    v = _library(catalog)
    ana = _user(catalog, "ana")
    for i in range(2):
        _watch(catalog, ana, v[f"cooking {i}"], "completed")
    _watch(catalog, ana, v["sports 0"], "liked")
    got = Recommender(catalog).recommend(user_id=ana, limit=9)
    scores = [r.score for r in got]
    assert scores == sorted(scores, reverse=True), scores  # diversified, and still in order


def test_the_newest_strong_signal_names_the_reason_when_it_is_nearly_as_strong(catalog):
    from datetime import timedelta

    from core.models import Event, utcnow

    first = add_topic_video(catalog, "first", topic(COOKING), seed=1, noise=0.02)
    second = add_topic_video(catalog, "second", topic(COOKING), seed=2, noise=0.02)
    add_topic_video(catalog, "next", topic(COOKING), seed=3, noise=0.02)
    ana = _user(catalog, "ana")
    _watch(catalog, ana, first, "liked")  # weighs 1.5
    with session_scope(catalog) as s:  # ...a day ago
        for event in s.query(Event).filter(Event.video_id == first):
            event.created_at = utcnow() - timedelta(days=1)
    rec = Recommender(catalog)
    assert rec.recommend(user_id=ana, limit=1)[0].reason == "because you liked first"
    _watch(catalog, ana, second, "completed")  # weighs 1.0, just now: two thirds of the like
    (top,) = rec.recommend(user_id=ana, limit=1)
    assert (top.title, top.reason) == ("next", "because you watched second")
