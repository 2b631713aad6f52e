"""core.users on SQLite and PostgreSQL: tokens, events (idempotent, validated), history, continue
watching, and the counts the ranker reads across users."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

import core.users as users
from core.db import session_scope
from core.models import Event, User, UserRole, VideoStatus, utcnow
from core.settings import Settings
from core.users import EventError, NotAuthorized, UnknownUser, UserError
from tests.catalog_helpers import add_ready_video


def _user(settings: Settings, name: str = "ana") -> tuple[int, str]:
    with session_scope(settings) as s:
        user, token = users.add_user(session=s, name=name)
        return user.id, token


def _event(settings: Settings, user_id: int, video_id: str, kind: str, **kw) -> tuple[int, bool]:
    with session_scope(settings) as s:
        event, created = users.record_event(
            session=s, user_id=user_id, video_id=video_id, kind=kind, **kw
        )
        return event.id, created


def _event_count(settings: Settings) -> int:
    with session_scope(settings) as s:
        return int(s.scalar(select(func.count(Event.id))) or 0)


# --- users and tokens ----------------------------------------------------------------------------


def test_a_new_user_gets_a_token_once_and_only_its_hash_is_stored(catalog):
    user_id, token = _user(catalog)
    with session_scope(catalog) as s:
        stored = s.get(User, user_id)
        assert stored.token_hash == users.hash_token(token)
        assert token not in stored.token_hash
        assert stored.role == UserRole.USER
        assert users.verify_token(session=s, token=token).id == user_id
        assert "token_hash" not in users.user_summary(stored)
        assert users.user_summary(stored)["has_token"] is True


def test_tokens_open_their_own_user_and_nothing_else(catalog):
    ana, ana_token = _user(catalog, "ana")
    bob, bob_token = _user(catalog, "bob")
    forged = ana_token[:-4] + ("AAAA" if not ana_token.endswith("AAAA") else "BBBB")
    # Bob's secret under Ana's id: the id in a token is a hint, the hash is what counts.
    swapped = f"{users.TOKEN_PREFIX}_{ana}_{bob_token.split('_', 2)[2]}"
    with session_scope(catalog) as s:
        assert users.authorize(session=s, token=ana_token, user_id=ana).id == ana
        too_big = f"{users.TOKEN_PREFIX}_9999999999_" + "a" * 40  # past a 32-bit id
        unknown = f"{users.TOKEN_PREFIX}_999_" + "a" * 40
        for bad in (None, "", "Bearer x", forged, swapped, too_big, unknown):
            assert users.verify_token(session=s, token=bad) is None
            with pytest.raises(NotAuthorized):
                users.authorize(session=s, token=bad, user_id=ana)
        with pytest.raises(UnknownUser, match=str(bob)):
            users.authorize(session=s, token=ana_token, user_id=bob)
        # A user that does not exist looks exactly like one that is not yours.
        with pytest.raises(UnknownUser):
            users.authorize(session=s, token=ana_token, user_id=bob + 100)


def test_a_new_token_replaces_the_old_one(catalog):
    user_id, old = _user(catalog)
    with session_scope(catalog) as s:
        new = users.issue_token(session=s, user_id=user_id)
    with session_scope(catalog) as s:
        assert users.verify_token(session=s, token=old) is None
        assert users.verify_token(session=s, token=new).id == user_id


def test_a_user_the_command_line_names_into_being_has_no_token_until_one_is_issued(catalog):
    with session_scope(catalog) as s:
        first = users.ensure_user(session=s, name=" carol ")
        again = users.ensure_user(session=s, name="carol")
        assert first.id == again.id and first.name == "carol"
        assert first.token_hash is None
        assert users.user_summary(first)["has_token"] is False
        # An absent hash must not match a token that hashes to anything at all.
        fake = f"{users.TOKEN_PREFIX}_{first.id}_" + "x" * 43
        assert users.verify_token(session=s, token=fake) is None
        assert [u.name for u in users.list_users(session=s)] == ["carol"]


@pytest.mark.parametrize("name", ["", "   ", "a" * 201, "tab\there"])
def test_blank_long_or_unprintable_user_names_are_refused(catalog, name):
    with session_scope(catalog) as s, pytest.raises(UserError, match="user name"):
        users.add_user(session=s, name=name)


def test_a_second_user_with_the_same_name_is_refused_and_the_first_keeps_its_token(catalog):
    user_id, token = _user(catalog, "ana")
    with session_scope(catalog) as s, pytest.raises(UserError, match="'ana' already exists"):
        users.add_user(session=s, name="ana")
    with session_scope(catalog) as s:
        assert users.verify_token(session=s, token=token).id == user_id


def test_an_unknown_role_is_refused(catalog):
    with session_scope(catalog) as s, pytest.raises(UserError, match="'root'"):
        users.add_user(session=s, name="ana", role="root")


# --- events --------------------------------------------------------------------------------------


def test_an_event_sent_twice_with_one_client_id_is_stored_once(catalog):
    user_id, _ = _user(catalog)
    vid = add_ready_video(catalog, "a.mp4", ["x", "y"])
    first = _event(catalog, user_id, vid, "progress", position=2.5, client_event_id="c-1")
    again = _event(catalog, user_id, vid, "progress", position=2.5, client_event_id="c-1")
    assert first == (first[0], True)
    assert again == (first[0], False)
    # Without a client id every event is its own.
    _event(catalog, user_id, vid, "progress", position=2.5)
    _event(catalog, user_id, vid, "progress", position=2.5)
    assert _event_count(catalog) == 3


def test_one_client_id_from_two_users_is_two_events(catalog):
    ana, _ = _user(catalog, "ana")
    bob, _ = _user(catalog, "bob")
    vid = add_ready_video(catalog, "a.mp4", ["x"])
    assert _event(catalog, ana, vid, "liked", client_event_id="same")[1]
    assert _event(catalog, bob, vid, "liked", client_event_id="same")[1]
    assert _event_count(catalog) == 2


def test_a_client_id_reused_for_a_different_event_is_a_conflict(catalog):
    user_id, _ = _user(catalog)
    vid = add_ready_video(catalog, "a.mp4", ["x"])
    _event(catalog, user_id, vid, "liked", client_event_id="c-1")
    with pytest.raises(EventError, match="'c-1' was used for a different event") as err:
        _event(catalog, user_id, vid, "disliked", client_event_id="c-1")
    assert err.value.code == "conflict"
    assert _event_count(catalog) == 1


def test_a_retry_that_races_its_twin_past_the_check_is_still_stored_once(catalog, monkeypatch):
    user_id, _ = _user(catalog)
    vid = add_ready_video(catalog, "a.mp4", ["x"])
    first, _ = _event(catalog, user_id, vid, "completed", client_event_id="c-1")
    real = users._replayed
    calls = []

    def blind_first_time(*args, **kwargs):
        # The twin commits between this request's check and its insert.
        calls.append(args)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(users, "_replayed", blind_first_time)
    assert _event(catalog, user_id, vid, "completed", client_event_id="c-1") == (first, False)
    assert len(calls) == 2
    assert _event_count(catalog) == 1


def test_a_retry_is_answered_even_after_its_video_stopped_being_ready(catalog):
    user_id, _ = _user(catalog)
    vid = add_ready_video(catalog, "a.mp4", ["x"])
    first, _ = _event(catalog, user_id, vid, "started", client_event_id="c-1")
    with session_scope(catalog) as s:
        from core.models import Video

        s.get(Video, vid).status = VideoStatus.PROCESSING  # being re-indexed
    assert _event(catalog, user_id, vid, "started", client_event_id="c-1") == (first, False)


BAD_EVENTS = [
    # (what, kwargs, code, words the message must contain)
    ("unknown video", {"video_id": "0123456789abcdef"}, "unknown_video", "'0123456789abcdef'"),
    ("a NUL in the video id", {"video_id": "ab\x00cd"}, "unknown_video", "'ab\\x00cd'"),
    ("an endless video id", {"video_id": "f" * 5000}, "unknown_video", "does not exist"),
    ("unknown kind", {"kind": "rewound"}, "unknown_kind", "'rewound'"),
    ("negative position", {"kind": "progress", "position": -1.0}, "bad_position", "-1.0"),
    ("position past the end", {"kind": "progress", "position": 6.5}, "bad_position", "6.5 s"),
    ("progress without one", {"kind": "progress"}, "bad_position", "needs a position"),
    ("position not a number", {"position": float("nan")}, "bad_position", "nan"),
    ("position a string", {"position": "12"}, "bad_position", "'12'"),
    ("blank client id", {"client_event_id": " "}, "bad_client_event_id", "' '"),
    ("long client id", {"client_event_id": "c" * 101}, "bad_client_event_id", "100"),
    ("video not ready", {"video_id": "pending"}, "video_not_ready", "processing"),
]


@pytest.mark.parametrize(
    ("kwargs", "code", "words"), [b[1:] for b in BAD_EVENTS], ids=[b[0] for b in BAD_EVENTS]
)
def test_a_bad_event_is_refused_with_a_reason_and_changes_nothing(catalog, kwargs, code, words):
    user_id, _ = _user(catalog)
    ready = add_ready_video(catalog, "a.mp4", ["x", "y"])  # 6 s long
    pending = add_ready_video(catalog, "b.mp4", ["x"], status=VideoStatus.PROCESSING)
    args = {"video_id": ready, "kind": "started", **kwargs}
    if args["video_id"] == "pending":
        args["video_id"] = pending
    with pytest.raises(EventError) as err:
        _event(catalog, user_id, **args)
    assert err.value.code == code
    assert words in str(err.value)
    assert _event_count(catalog) == 0


@pytest.mark.parametrize("user_id", [42, 0, -1, 2**40])
def test_an_event_for_a_user_that_does_not_exist_is_refused(catalog, user_id):
    vid = add_ready_video(catalog, "a.mp4", ["x"])
    with pytest.raises(UnknownUser, match=f"user {user_id} "):
        _event(catalog, user_id, vid, "started")
    assert _event_count(catalog) == 0
    with session_scope(catalog) as s:
        assert users.get_user(session=s, user_id=user_id) is None


def test_watched_is_the_command_lines_word_for_started_and_the_end_is_a_valid_position(catalog):
    user_id, _ = _user(catalog)
    vid = add_ready_video(catalog, "a.mp4", ["x", "y"])
    _event(catalog, user_id, vid, "watched", position=0.0)
    _event(catalog, user_id, vid, "completed", position=6.0)
    with session_scope(catalog) as s:
        kinds = [e.kind for e in users.history(session=s, user_id=user_id)]
    assert kinds == ["completed", "started"]


def test_history_is_newest_first_with_titles_and_pages_back(catalog):
    ana, _ = _user(catalog, "ana")
    bob, _ = _user(catalog, "bob")
    a = add_ready_video(catalog, "a.mp4", ["x"])
    b = add_ready_video(catalog, "b.mp4", ["x"])
    ids = [_event(catalog, ana, v, k)[0] for v, k in [(a, "started"), (a, "liked"), (b, "skipped")]]
    _event(catalog, bob, b, "completed")
    with session_scope(catalog) as s:
        page = users.history(session=s, user_id=ana, limit=2)
        assert [e.id for e in page] == ids[::-1][:2]
        rest = users.history(session=s, user_id=ana, before_id=page[-1].id)
        assert [e.id for e in rest] == ids[:1]
        shown = users.event_summary(page[0])
    assert shown["title"] == "b.mp4" and shown["kind"] == "skipped" and shown["user_id"] == ana


# --- continue watching ---------------------------------------------------------------------------


def test_continue_watching_lists_started_unfinished_videos_where_they_stopped(catalog):
    user_id, _ = _user(catalog)
    other, _ = _user(catalog, "bob")
    # Each video is 30 s long (ten 3 s segments).
    v = {name: add_ready_video(catalog, f"{name}.mp4", ["x"] * 10) for name in "abcdefgh"}
    plan = [
        ("a", "started", None),  # started: resume from the start
        ("b", "started", 0.0),
        ("b", "progress", 12.0),  # resume at 12 s
        ("c", "progress", 10.0),
        ("c", "completed", None),  # finished: not listed
        ("d", "progress", 29.0),  # in the credits (97%): finished
        ("e", "started", 0.0),
        ("e", "skipped", 3.0),  # skipped after starting: gone
        ("f", "disliked", None),
        ("f", "started", 5.0),  # a second chance after a dislike: listed
        ("g", "completed", None),
        ("g", "started", 8.0),  # watching it again: listed
        ("h", "started", 4.0),
        ("h", "liked", None),  # a like is not the end of watching
    ]
    for name, kind, position in plan:
        _event(catalog, user_id, v[name], kind, position=position)
    _event(catalog, other, v["c"], "started", position=3.0)  # someone else's progress
    with session_scope(catalog) as s:
        rows = users.continue_watching(session=s, user_id=user_id)
        got = [(r.video.title, r.position) for r in rows]
        assert users.continue_summary(rows[0])["progress"] == pytest.approx(4.0 / 30, abs=1e-4)
    assert got == [("h.mp4", 4.0), ("g.mp4", 8.0), ("f.mp4", 5.0), ("b.mp4", 12.0), ("a.mp4", 0.0)]
    with session_scope(catalog) as s:
        assert [r.video.title for r in users.continue_watching(session=s, user_id=other)] == [
            "c.mp4"
        ]
        assert (
            users.continue_watching(session=s, user_id=user_id, limit=2)[1].video.title == "g.mp4"
        )


def test_continue_watching_leaves_out_a_video_being_reindexed(catalog):
    user_id, _ = _user(catalog)
    vid = add_ready_video(catalog, "a.mp4", ["x"] * 4)
    _event(catalog, user_id, vid, "progress", position=3.0)
    with session_scope(catalog) as s:
        from core.models import Video

        s.get(Video, vid).status = VideoStatus.PROCESSING
    with session_scope(catalog) as s:
        assert users.continue_watching(session=s, user_id=user_id) == []


# --- across users --------------------------------------------------------------------------------


def test_popularity_counts_people_who_watched_not_events_and_not_skips(catalog):
    a = add_ready_video(catalog, "a.mp4", ["x"])
    b = add_ready_video(catalog, "b.mp4", ["x"])
    c = add_ready_video(catalog, "c.mp4", ["x"])
    ana, bob, eve = (_user(catalog, n)[0] for n in ("ana", "bob", "eve"))
    for kind in ("started", "progress", "completed", "liked"):
        _event(catalog, ana, a, kind, position=1.0 if kind == "progress" else None)
    _event(catalog, bob, a, "started")
    _event(catalog, bob, b, "liked")
    _event(catalog, eve, c, "skipped")
    _event(catalog, eve, b, "disliked")
    old = utcnow() - timedelta(days=40)
    _event(catalog, eve, a, "started", at=old)
    with session_scope(catalog) as s:
        assert users.popularity_counts(session=s) == {a: 3, b: 1}
        recent = users.popularity_counts(session=s, since=utcnow() - timedelta(days=30))
        assert recent == {a: 2, b: 1}


def test_co_watching_counts_finished_or_liked_videos_that_were_never_disliked(catalog):
    a = add_ready_video(catalog, "a.mp4", ["x"])
    b = add_ready_video(catalog, "b.mp4", ["x"])
    c = add_ready_video(catalog, "c.mp4", ["x"])
    ana, bob = (_user(catalog, n)[0] for n in ("ana", "bob"))
    _event(catalog, ana, a, "completed")
    _event(catalog, ana, b, "liked")
    _event(catalog, ana, c, "started")  # only started: not (yet) watched
    _event(catalog, bob, a, "completed")
    _event(catalog, bob, a, "disliked")  # finished and hated it
    _event(catalog, bob, c, "completed")
    with session_scope(catalog) as s:
        assert sorted(users.engaged_pairs(session=s)) == sorted([(ana, a), (ana, b), (bob, c)])
        newest = users.newest_event_id(session=s)
        assert newest == s.scalar(select(func.max(Event.id)))
    _event(catalog, ana, a, "liked")
    with session_scope(catalog) as s:
        assert users.newest_event_id(session=s) > newest
