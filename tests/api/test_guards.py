"""The edge both servers share (api/guards.py), in process: which Host names a server answers
to, the refusal of state-changing requests and WebSockets from other websites, which headers
mean "through a proxy", and the upload's content type. The same probes against real server
processes are in tests/api/test_served_security.py."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from api.guards import PROXY_HEADERS, Mode, RequestGuard, accepted_hosts, is_proxied
from core.settings import Settings


def _app(**guard: object) -> Starlette:
    async def ok(request):  # type: ignore[no-untyped-def]
        return PlainTextResponse("ok")

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    app = Starlette(routes=[Route("/x", ok, methods=["GET", "POST"]), WebSocketRoute("/ws", ws)])
    app.add_middleware(RequestGuard, **guard)  # type: ignore[arg-type]
    return app


LOCAL = {"hosts": ["localhost", "127.0.0.1", "::1"]}


def test_a_local_server_answers_only_to_its_loopback_names():
    client = TestClient(_app(**LOCAL), base_url="http://127.0.0.1:8000")
    for host in ["127.0.0.1:8000", "localhost:8501", "[::1]:8000", "LOCALHOST", "localhost."]:
        assert client.get("/x", headers={"Host": host}).status_code == 200, host
    for host in ["evil.example", "127.0.0.1.evil.example", "evil.example:8000", "", "a@b", "x:y"]:
        r = client.get("/x", headers={"Host": host})
        assert r.status_code == 400, host
        assert "does not answer to Host" in r.json()["detail"]


def test_which_hosts_each_mode_accepts():
    auto, required, off = (Settings(auth=a) for a in ("auto", "required", "off"))
    loopback = Mode.decide(auto, "127.0.0.1")
    assert accepted_hosts(auto, "127.0.0.1", loopback) == ["localhost", "127.0.0.1", "::1"]
    listed = auto.model_copy(update={"allowed_hosts": ["vids.example"]})
    assert "vids.example" in accepted_hosts(listed, "127.0.0.1", loopback)
    # Off loopback a server answers to whatever names reach it, until some are listed.
    assert accepted_hosts(required, "0.0.0.0", Mode.decide(required, "0.0.0.0")) is None
    assert accepted_hosts(off, "0.0.0.0", Mode.decide(off, "0.0.0.0")) is None
    named = required.model_copy(update={"allowed_hosts": ["*.home.example"]})
    hosts = accepted_hosts(named, "192.168.1.5", Mode.decide(named, "192.168.1.5"))
    assert hosts is not None and "192.168.1.5" in hosts and "*.home.example" in hosts


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:9999"},  # another port is another site
        {"Origin": "http://127.0.0.1"},  # port 80: not this server either
        {"Origin": "http://localhost:8000"},  # the same machine, but another site's name
        {"Referer": "http://evil.example/page"},
        {"Origin": "http://evil.example", "Referer": "http://127.0.0.1:8000/"},
    ],
)
def test_a_post_from_another_website_is_refused_in_every_mode(headers):
    for guard in (LOCAL, {"hosts": None}):
        client = TestClient(_app(**guard), base_url="http://127.0.0.1:8000")
        r = client.post("/x", headers={**headers, "Content-Type": "text/plain"}, content="x")
        assert r.status_code == 403, (guard, headers)
        assert "another website" in r.json()["detail"]
        assert client.get("/x", headers=headers).status_code == 200  # reading is not acting


def test_a_post_from_the_servers_own_pages_or_a_program_passes():
    client = TestClient(
        _app(**LOCAL, cors_origins=["https://ui.example"]), base_url="http://127.0.0.1:8000"
    )
    for headers in [
        {},  # curl, the CLI, a script: no browser, no Origin
        {"Origin": "http://127.0.0.1:8000"},
        {"Referer": "http://127.0.0.1:8000/library?x=1"},
        {"Origin": "https://ui.example"},  # listed in VIDSEARCH_CORS_ORIGINS
    ]:
        assert client.post("/x", headers=headers).status_code == 200, headers
    default_port = TestClient(_app(**LOCAL), base_url="http://localhost")
    assert default_port.post("/x", headers={"Origin": "http://localhost:80"}).status_code == 200
    # Behind a proxy that ends TLS the page is https, the server sees http, neither names a port.
    behind_tls = TestClient(_app(hosts=None), base_url="http://videos.example")
    assert behind_tls.post("/x", headers={"Origin": "https://videos.example"}).status_code == 200


def test_a_proxy_rewriting_the_host_is_served_by_naming_the_public_host():
    guard = {"hosts": None, "allowed_hosts": ["videos.home.example"]}
    client = TestClient(_app(**guard), base_url="http://ui:8501")
    ok = client.post("/x", headers={"Origin": "https://videos.home.example"})
    assert ok.status_code == 200
    assert client.post("/x", headers={"Origin": "https://evil.example"}).status_code == 403


def test_a_websocket_from_another_website_is_refused():
    client = TestClient(_app(**LOCAL), base_url="http://127.0.0.1:8501")
    with client.websocket_connect(
        "ws://127.0.0.1:8501/ws", headers={"Origin": "http://127.0.0.1:8501"}
    ) as ws:
        assert ws.receive_text() == "hello"
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect(
            "ws://127.0.0.1:8501/ws", headers={"Origin": "http://evil.example"}
        ) as ws,
    ):
        ws.receive_text()
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("ws://127.0.0.1:8501/ws", headers={"Host": "evil.example"}) as ws,
    ):
        ws.receive_text()


@pytest.mark.parametrize("name", sorted(PROXY_HEADERS | {"X-Forwarded-Host", "x-forwarded-proto"}))
def test_any_proxy_header_at_all_means_the_request_was_proxied(name):
    assert is_proxied([name]) and is_proxied([name.upper()])
    mode = Mode.decide(Settings(auth="auto"), "127.0.0.1")
    assert mode.admits_owner(["host", "accept"]) and not mode.admits_owner(["host", name])


def test_an_upload_needs_its_real_content_type(settings):
    from api.app import create_app
    from api.deps import Services
    from tests.http import LOCAL_URL

    app = create_app(settings)
    app.state.services = Services(settings)
    client = TestClient(app, base_url=LOCAL_URL)
    for kind in [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]:
        headers = {"Content-Type": kind} if kind else {}
        r = client.post("/ingest/upload", params={"name": "a.mp4"}, content=b"x", headers=headers)
        assert r.status_code == 415, (kind, r.text)
        assert "application/octet-stream or video/*" in r.json()["detail"]
    assert not settings.uploads_dir.exists() or not any(settings.uploads_dir.rglob("*.mp4"))
    for kind in ["application/octet-stream", "video/mp4", "video/x-matroska; charset=binary"]:
        r = client.post(
            "/ingest/upload", params={"name": "a.mp4"}, content=b"", headers={"Content-Type": kind}
        )
        assert r.status_code == 422 and "empty" in r.json()["detail"], kind  # past the type
