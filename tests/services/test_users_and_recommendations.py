"""services.users and services.recommendations on SQLite and PostgreSQL: tokens shown once and
checked, events stored once and refused whole, history, recommendations and continue watching
for a user named by id or by name."""

from __future__ import annotations

import pytest

from core.settings import Settings
from recommender.service import Recommender
from services import recommendations, users
from tests.catalog_helpers import add_ready_video


def _library(settings: Settings) -> dict[str, str]:
    """Four ready videos of 6 s, and one still being indexed."""
    v = {n: add_ready_video(settings, n, ["a", "b"], seed=i) for i, n in enumerate("abcd")}
    v["pending"] = add_ready_video(settings, "pending", ["a"], seed=9, status="processing")
    return v


def _nothing_changed(settings: Settings) -> bool:
    return users.list_users(settings) == []


def test_a_token_is_shown_once_checked_and_replaced(catalog):
    ana = users.add_user(catalog, "ana")
    assert ana["token"].startswith(f"vsu_{ana['user_id']}_") and ana["role"] == "user"
    listed = users.list_users(catalog)
    assert [u["name"] for u in listed] == ["ana"] and listed[0]["has_token"]
    assert "token" not in listed[0] and ana["token"] not in repr(listed)
    assert users.authenticate(catalog, ana["token"])["user_id"] == ana["user_id"]
    fresh = users.new_token(catalog, "ana")
    with pytest.raises(users.NotAuthorized):
        users.authenticate(catalog, ana["token"])  # the old one stopped working
    assert users.authenticate(catalog, fresh["token"])["name"] == "ana"
    with pytest.raises(users.UserError, match="already exists"):
        users.add_user(catalog, "ana")
    with pytest.raises(users.UnknownUser, match="no user called 'bob'"):
        users.new_token(catalog, "bob")
    with pytest.raises(users.UserError, match="printable"):
        users.add_user(catalog, "  ")


def test_only_the_tokens_own_user_is_authorized_and_only_an_admin_is_an_admin(catalog):
    ana = users.add_user(catalog, "ana")
    boss = users.add_user(catalog, "boss", admin=True)
    for missing_or_wrong in (None, "", "Bearer x", ana["token"] + "x", "vsu_1_" + "a" * 43):
        with pytest.raises(users.NotAuthorized):
            users.authorize(catalog, missing_or_wrong, ana["user_id"])
    assert users.authorize(catalog, ana["token"], ana["user_id"])["name"] == "ana"
    for someone_else in (boss["user_id"], 999, -1, 2**40):
        with pytest.raises(users.UnknownUser):
            users.authorize(catalog, ana["token"], someone_else)
    with pytest.raises(users.Forbidden, match="'ana' is not an admin"):
        users.authenticate(catalog, ana["token"], admin=True)
    assert users.authenticate(catalog, boss["token"], admin=True)["role"] == "admin"


def test_a_named_user_is_created_on_first_use_and_a_retried_event_is_stored_once(catalog):
    v = _library(catalog)
    first = users.record_event(
        catalog, create=True, name="ana", video_id=v["a"], kind="watched", client_event_id="e1"
    )
    assert first["created"] and first["kind"] == "started" and first["title"] == "a"
    [ana] = users.list_users(catalog)
    assert ana["name"] == "ana" and not ana["has_token"]  # no HTTP access until `user token`
    again = users.record_event(
        catalog, user_id=ana["user_id"], video_id=v["a"], kind="started", client_event_id="e1"
    )
    assert not again["created"] and again["event_id"] == first["event_id"]
    with pytest.raises(users.EventError, match="different event") as err:
        users.record_event(
            catalog, create=True, name="ana", video_id=v["b"], kind="liked", client_event_id="e1"
        )
    assert err.value.code == "conflict"
    assert [e["event_id"] for e in users.history(catalog, name="ana")] == [first["event_id"]]


@pytest.mark.parametrize(
    ("video", "kind", "position", "code"),
    [
        ("unknown", "watched", None, "unknown_video"),
        ("a", "rewound", None, "unknown_kind"),
        ("a", "progress", -1.0, "bad_position"),
        ("a", "progress", 6.5, "bad_position"),  # the video is 6 s long
        ("a", "progress", float("nan"), "bad_position"),
        ("a", "progress", None, "bad_position"),
        ("pending", "watched", None, "video_not_ready"),
    ],
)
def test_a_bad_event_is_refused_with_its_reason_and_changes_nothing(
    catalog, video, kind, position, code
):
    v = _library(catalog)
    video_id = v.get(video, "0000000000000000")
    with pytest.raises(users.EventError) as err:
        users.record_event(
            catalog, create=True, name="ana", video_id=video_id, kind=kind, position=position
        )
    assert err.value.code == code
    assert _nothing_changed(catalog)  # not even the user it named


def test_history_is_newest_first_and_pages_back(catalog):
    v = _library(catalog)
    ids = [
        users.record_event(catalog, create=True, name="ana", video_id=v[n], kind="completed")[
            "event_id"
        ]
        for n in "abc"
    ]
    page = users.history(catalog, name="ana", limit=2)
    assert [e["event_id"] for e in page] == ids[::-1][:2]
    rest = users.history(catalog, name="ana", before_id=page[-1]["event_id"])
    assert [e["event_id"] for e in rest] == ids[:1]
    with pytest.raises(users.UnknownUser):
        users.history(catalog, user_id=12345)
    with pytest.raises(ValueError, match="limit 0"):
        users.history(catalog, name="bob", limit=0)
    assert [u["name"] for u in users.list_users(catalog)] == ["ana"]


def test_recommendations_for_a_new_user_are_the_popular_videos_and_never_what_they_saw(catalog):
    v = _library(catalog)
    for n in range(3):
        users.record_event(
            catalog, create=True, name=f"viewer{n}", video_id=v["c"], kind="completed"
        )
    rec = recommendations.recommender_for(catalog)
    users.local_user(catalog, "newcomer")
    cold = recommendations.recommend(catalog, name="newcomer", recommender=rec)
    assert cold[0]["video_id"] == v["c"] and cold[0]["reason"] == "popular in your library"
    assert {"video_id", "path", "title", "score", "reason"} <= set(cold[0])
    assert v["pending"] not in {r["video_id"] for r in cold}
    users.record_event(catalog, create=True, name="newcomer", video_id=v["c"], kind="completed")
    users.record_event(catalog, create=True, name="newcomer", video_id=v["a"], kind="skipped")
    later = recommendations.recommend(catalog, name="newcomer", recommender=rec, limit=10)
    assert {r["video_id"] for r in later} == {v["b"], v["d"]}


def test_continue_watching_resumes_where_the_user_stopped(catalog):
    v = _library(catalog)
    users.record_event(catalog, create=True, name="ana", video_id=v["b"], kind="watched")
    users.record_event(
        catalog, create=True, name="ana", video_id=v["b"], kind="progress", position=2.5
    )
    users.record_event(catalog, create=True, name="ana", video_id=v["c"], kind="watched")
    users.record_event(catalog, create=True, name="ana", video_id=v["c"], kind="completed")
    [row] = recommendations.continue_watching(catalog, name="ana")
    assert (row["video_id"], row["position"], row["duration"]) == (v["b"], 2.5, 6.0)
    assert row["progress"] == round(2.5 / 6, 4)
    with pytest.raises(users.UnknownUser, match="no user called 'bob'"):
        recommendations.continue_watching(catalog, name="bob")  # a typo makes nobody


def test_an_unknown_id_or_a_bad_limit_is_refused_before_anyone_is_created(catalog):
    _library(catalog)
    with pytest.raises(users.UnknownUser):
        recommendations.recommend(catalog, user_id=77)
    with pytest.raises(users.UnknownUser):
        recommendations.continue_watching(catalog, user_id=77)
    for bad in (0, 101, True):
        with pytest.raises(ValueError, match="limit"):
            recommendations.recommend(catalog, name="ana", limit=bad)
        with pytest.raises(ValueError, match="limit"):
            recommendations.continue_watching(catalog, name="ana", limit=bad)
    assert _nothing_changed(catalog)


def test_the_recommender_is_tuned_by_the_settings_and_its_defaults_are_theirs(tmp_path):
    tuned = recommendations.recommender_for(
        Settings(home=tmp_path, recommend_refresh_seconds=5, recommend_check_seconds=0.25)
    )
    assert (tuned.refresh_seconds, tuned.library.check_seconds) == (5.0, 0.25)
    plain = Recommender(Settings(home=tmp_path))
    defaults = Settings(home=tmp_path)
    assert plain.refresh_seconds == defaults.recommend_refresh_seconds
    assert plain.library.check_seconds == defaults.recommend_check_seconds
