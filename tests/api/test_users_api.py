"""``/users`` and ``/events`` on SQLite and PostgreSQL: API tokens (none, wrong, another user's
id, admin-only creation), events stored once and refused whole with a reason, history,
recommendations and continue watching. No model is loaded: nothing here embeds a query."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import Services
from core.settings import Settings
from services import users
from tests.catalog_helpers import add_ready_video
from tests.http import LOCAL_URL


@pytest.fixture
def client(catalog: Settings) -> Iterator[TestClient]:
    # These tests are about tokens: the server demands them (not local single-user mode).
    app = create_app(catalog.model_copy(update={"auth": "required"}))
    app.state.services = Services(catalog)  # what the lifespan does, without warming up models
    yield TestClient(
        app, base_url=LOCAL_URL
    )  # no `with`: the lifespan would load the search models


def _library(settings: Settings) -> dict[str, str]:
    """Four ready videos of 6 s and one still being indexed."""
    v = {n: add_ready_video(settings, f"{n}.mp4", ["a", "b"], seed=i) for i, n in enumerate("abcd")}
    v["pending"] = add_ready_video(settings, "pending.mp4", ["a"], seed=9, status="processing")
    return v


def _auth(user: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {user['token']}"}


def _history(client: TestClient, user: dict) -> list[dict]:
    r = client.get(f"/users/{user['user_id']}/history", headers=_auth(user))
    assert r.status_code == 200
    return r.json()["events"]


PER_USER = ("history", "recommendations", "continue")


@pytest.mark.parametrize("what", PER_USER)
def test_without_a_good_token_it_is_401_and_with_another_users_id_404(client, catalog, what):
    ana = users.add_user(catalog, "ana")
    bob = users.add_user(catalog, "bob")
    url = f"/users/{ana['user_id']}/{what}"
    for headers, challenge in [
        ({}, "Bearer"),
        ({"Authorization": "Basic YW5hOnNlY3JldA=="}, "Bearer"),
        ({"Authorization": "Bearer"}, "Bearer"),
        ({"Authorization": "Bearer not-a-token"}, 'Bearer error="invalid_token"'),
        ({"Authorization": f"Bearer {ana['token']}x"}, 'Bearer error="invalid_token"'),
    ]:
        r = client.get(url, headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"] == challenge
        assert "token" in r.json()["detail"]
    assert client.get(url, headers=_auth(ana)).status_code == 200
    # Bob's own token, ana's id: the same answer as for an id nobody has.
    other = client.get(url, headers=_auth(bob))
    nobody = client.get(f"/users/99999/{what}", headers=_auth(bob))
    huge = client.get(f"/users/{2**70}/{what}", headers=_auth(bob))
    assert other.status_code == nobody.status_code == huge.status_code == 404
    assert other.json()["detail"] == f"user {ana['user_id']} does not exist"
    assert "a.mp4" not in other.text


def test_a_replaced_token_stops_working(client, catalog):
    ana = users.add_user(catalog, "ana")
    fresh = users.new_token(catalog, "ana")
    assert client.get(f"/users/{ana['user_id']}/history", headers=_auth(ana)).status_code == 401
    assert client.get(f"/users/{ana['user_id']}/history", headers=_auth(fresh)).status_code == 200


def test_only_an_admin_creates_users_and_the_token_is_returned_once(client, catalog):
    ana = users.add_user(catalog, "ana")
    boss = users.add_user(catalog, "boss", admin=True)
    body = {"name": "carol"}
    assert client.post("/users", json=body).status_code == 401
    r = client.post("/users", json=body, headers=_auth(ana))
    assert r.status_code == 403 and "not an admin" in r.json()["detail"]
    r = client.post("/users", json=body, headers=_auth(boss))
    assert r.status_code == 201
    carol = r.json()
    assert carol["name"] == "carol" and carol["role"] == "user" and carol["has_token"]
    assert _history(client, carol) == []  # the token works
    r = client.post("/users", json=body, headers=_auth(boss))
    assert r.status_code == 409 and "already exists" in r.json()["detail"]
    for bad in ({"name": ""}, {"name": "a\x00b"}, {"name": "x" * 201}, {"nom": "dave"}):
        assert client.post("/users", json=bad, headers=_auth(boss)).status_code == 422, bad
    assert [u["name"] for u in users.list_users(catalog)] == ["ana", "boss", "carol"]


def test_an_event_is_201_when_new_200_when_sent_again_and_409_when_its_id_is_reused(
    client, catalog
):
    v = _library(catalog)
    ana = users.add_user(catalog, "ana")
    event = {"video_id": v["a"], "kind": "progress", "position": 2.5, "client_event_id": "tv-7"}
    assert client.post("/events", json=event).status_code == 401
    first = client.post("/events", json=event, headers=_auth(ana))
    assert first.status_code == 201
    assert first.json()["created"] and first.json()["user_id"] == ana["user_id"]
    again = client.post("/events", json=event, headers=_auth(ana))
    assert again.status_code == 200 and not again.json()["created"]
    assert again.json()["event_id"] == first.json()["event_id"]
    reused = client.post("/events", json={**event, "position": 3.0}, headers=_auth(ana))
    assert reused.status_code == 409 and reused.json()["code"] == "conflict"
    watched = client.post(
        "/events", json={"video_id": v["b"], "kind": "watched"}, headers=_auth(ana)
    )
    assert watched.status_code == 201 and watched.json()["kind"] == "started"
    assert [e["video_id"] for e in _history(client, ana)] == [v["b"], v["a"]]


BAD_EVENTS = [
    # (event, status, code, words the reason must contain)
    ({"video_id": "0000000000000000", "kind": "started"}, 404, "unknown_video", "does not exist"),
    ({"video_id": "a\x00b", "kind": "started"}, 404, "unknown_video", "does not exist"),
    ({"video_id": "a", "kind": "rewound"}, 422, "unknown_kind", "'rewound'"),
    ({"video_id": "a", "kind": "progress", "position": -1}, 422, "bad_position", "0 or more"),
    ({"video_id": "a", "kind": "progress", "position": 6.5}, 422, "bad_position", "past the end"),
    ({"video_id": "a", "kind": "progress"}, 422, "bad_position", "needs a position"),
    ({"video_id": "pending", "kind": "started"}, 422, "video_not_ready", "not ready"),
    ({"video_id": "a", "kind": "liked", "client_event_id": " "}, 422, "bad_client_event_id", "id"),
]


@pytest.mark.parametrize(("event", "status", "code", "words"), BAD_EVENTS)
def test_a_bad_event_is_refused_with_its_reason_and_changes_nothing(
    client, catalog, event, status, code, words
):
    v = _library(catalog)
    ana = users.add_user(catalog, "ana")
    event = {**event, "video_id": v.get(event["video_id"], event["video_id"])}
    r = client.post("/events", json=event, headers=_auth(ana))
    assert r.status_code == status
    assert r.json()["code"] == code and words in r.json()["detail"]
    assert _history(client, ana) == []


def test_a_malformed_event_body_is_422(client, catalog):
    v = _library(catalog)
    ana = users.add_user(catalog, "ana")
    for body in (
        {"kind": "started"},
        {"video_id": v["a"], "kind": "started", "user_id": 3},  # the user is the token's
        {"video_id": v["a"], "kind": "progress", "position": "soon"},
    ):
        assert client.post("/events", json=body, headers=_auth(ana)).status_code == 422, body
    assert _history(client, ana) == []


def test_recommendations_start_with_popular_videos_and_leave_out_what_was_seen(client, catalog):
    v = _library(catalog)
    for n in range(3):
        users.record_event(catalog, create=True, name=f"fan{n}", video_id=v["c"], kind="completed")
    ana = users.add_user(catalog, "ana")
    url = f"/users/{ana['user_id']}/recommendations"
    r = client.get(url, params={"limit": 3}, headers=_auth(ana))
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 3
    assert {"video_id", "path", "title", "score", "reason"} <= set(results[0])
    assert (results[0]["video_id"], results[0]["reason"]) == (v["c"], "popular in your library")
    for kind, name in [("completed", "c"), ("skipped", "a")]:
        event = {"video_id": v[name], "kind": kind}
        assert client.post("/events", json=event, headers=_auth(ana)).status_code == 201
    r = client.get(url, headers=_auth(ana))
    assert {x["video_id"] for x in r.json()["results"]} == {v["b"], v["d"]}
    for limit in (0, 101, "ten"):
        bad = client.get(url, params={"limit": limit}, headers=_auth(ana))
        assert bad.status_code == 422, limit


def test_continue_watching_resumes_where_the_user_stopped(client, catalog):
    v = _library(catalog)
    ana = users.add_user(catalog, "ana")
    for event in (
        {"video_id": v["b"], "kind": "started"},
        {"video_id": v["b"], "kind": "progress", "position": 4.0},
        {"video_id": v["a"], "kind": "completed"},
    ):
        assert client.post("/events", json=event, headers=_auth(ana)).status_code == 201
    r = client.get(f"/users/{ana['user_id']}/continue", headers=_auth(ana))
    assert r.status_code == 200
    [row] = r.json()["results"]
    assert (row["video_id"], row["position"], row["duration"], row["path"]) == (
        v["b"],
        4.0,
        6.0,
        "/videos/b.mp4",
    )


def test_history_pages_back_by_event_id(client, catalog):
    v = _library(catalog)
    ana = users.add_user(catalog, "ana")
    for name in "abc":
        client.post("/events", json={"video_id": v[name], "kind": "liked"}, headers=_auth(ana))
    url = f"/users/{ana['user_id']}/history"
    page = client.get(url, params={"limit": 2}, headers=_auth(ana)).json()["events"]
    assert [e["video_id"] for e in page] == [v["c"], v["b"]]
    rest = client.get(url, params={"before": page[-1]["event_id"]}, headers=_auth(ana))
    assert [e["video_id"] for e in rest.json()["events"]] == [v["a"]]
