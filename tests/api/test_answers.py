"""What the API says when it refuses: a 422 quotes little of what it refused, /health answers
whatever token comes with it, a 403 says why, and the docs page says who may call what."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import Services
from core.settings import Settings
from services import users
from tests.http import LOCAL_URL


def _client(settings: Settings) -> TestClient:
    app = create_app(settings)
    app.state.services = Services(settings)  # the lifespan's work, without loading models
    return TestClient(app, base_url=LOCAL_URL)


def test_a_422_quotes_at_most_about_a_hundred_characters_of_the_input(settings):
    client = _client(settings)
    r = client.get("/videos", params={"limit": "9" * 5000})
    assert r.status_code == 422
    quoted = r.json()["detail"][0]["input"]
    assert len(quoted) < 130 and quoted.startswith("9" * 100) and "5000 characters" in quoted
    assert len(r.text) < 1000
    short = client.get("/videos", params={"limit": "ten"})
    assert short.json()["detail"][0]["input"] == "ten"  # short inputs are quoted whole


def test_health_answers_anyone_whatever_token_they_send(settings):
    client = _client(settings.model_copy(update={"auth": "required"}))
    for headers in (
        {},
        {"Authorization": "Bearer vsu_1_not-a-token-at-all-000000000"},
        {"Authorization": "Bearer garbage"},
    ):
        r = client.get("/health", headers=headers)
        assert r.status_code == 200, (headers, r.text)
        assert r.json()["status"] == "ok"
    assert client.get("/videos", headers={"Authorization": "Bearer garbage"}).status_code == 401


def test_a_403_says_why_and_on_loopback_that_no_token_would_be_the_owner(settings):
    ana = users.add_user(settings, "ana")
    token = {"Authorization": f"Bearer {ana['token']}"}
    local = _client(settings).get("/jobs", headers=token)
    assert local.status_code == 403
    reason = local.json()["detail"]
    assert "needs an admin's token" in reason and "'ana' is not an admin" in reason
    assert "without any token acts as the machine's owner" in reason
    remote = _client(settings.model_copy(update={"auth": "required"})).get("/jobs", headers=token)
    assert remote.status_code == 403 and "owner" not in remote.json()["detail"]


def test_the_docs_page_says_who_may_call_what_in_local_mode(settings):
    described = _client(settings).get("/openapi.json").json()["info"]["description"]
    assert "Local single-user mode" in described
    assert "a user's token gets 403 on the admin endpoints even here" in described
