"""The users and recommendations front door that the web UI calls (thin: core.users and
recommender.service are tested on their own)."""

from __future__ import annotations

import pytest

from services import users
from services.recommendations import recommender_for
from tests.catalog_helpers import add_ready_video


def test_a_user_watches_likes_and_can_continue(settings):
    vid = add_ready_video(settings, "harbour", ["boats", "gulls"], duration=60.0)
    ann, token = users.add_user(settings, "Ann")
    assert token.startswith("vsu_") and ann["name"] == "Ann" and ann["has_token"]
    assert [u["name"] for u in users.list_users(settings)] == ["Ann"]
    with pytest.raises(users.UserError):
        users.add_user(settings, "Ann")

    users.record_event(
        settings, user_id=ann["user_id"], video_id=vid, kind="started", position=12.0
    )
    event, new = users.record_event(
        settings, user_id=ann["user_id"], video_id=vid, kind="liked", client_event_id="ui-1"
    )
    assert new and event["kind"] == "liked"
    assert not users.record_event(
        settings, user_id=ann["user_id"], video_id=vid, kind="liked", client_event_id="ui-1"
    )[1]
    assert [e["kind"] for e in users.history(settings, user_id=ann["user_id"])] == [
        "liked",
        "started",
    ]
    (row,) = users.continue_watching(settings, user_id=ann["user_id"])
    assert row["video_id"] == vid and row["position"] == 12.0 and row["progress"] == 0.2


def test_bad_events_and_unknown_users_are_refused_with_a_reason(settings):
    vid = add_ready_video(settings, "harbour", ["boats"], duration=6.0)
    ann, _ = users.add_user(settings, "Ann")
    with pytest.raises(users.EventError) as err:
        users.record_event(
            settings, user_id=ann["user_id"], video_id=vid, kind="started", position=99
        )
    assert err.value.code == "bad_position"
    with pytest.raises(users.UnknownUser):
        users.history(settings, user_id=999)
    with pytest.raises(users.UnknownUser):
        users.continue_watching(settings, user_id=999)


def test_one_recommender_per_process_and_catalog(settings, tmp_path):
    from core.settings import Settings

    assert recommender_for(settings) is recommender_for(settings)
    assert recommender_for(settings) is not recommender_for(Settings(home=tmp_path / "other"))
