"""Who may call what: every endpoint against every kind of caller (no token, a bad or replaced
token, a user's, an admin's), in token mode and in local single-user mode; CORS, rate and body
limits, uploads, path confinement for HTTP ingest, and no token in any log. No model is loaded:
an allowed call is one the endpoint refuses for a cheap reason of its own (a 404 or 422)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import Access, is_loopback
from api.deps import Services
from api.limits import RateLimited, RateLimiter
from core.settings import Settings
from services import users
from tests.catalog_helpers import add_ready_video
from tests.http import LOCAL_URL

OPEN, VIEWER, ADMIN, SELF = "open", "viewer", "admin", "self"
BINARY = {"Content-Type": "application/octet-stream"}  # what an upload is sent as

# Every route of the API: (method, path, request kwargs for a cheap call) -> who may make it.
# A route missing here fails test_every_route_is_in_the_role_table.
ROUTES: list[tuple[str, str, dict, str]] = [
    ("GET", "/health", {}, OPEN),
    ("GET", "/search", {"params": {"q": ""}}, VIEWER),
    ("POST", "/search/image", {}, VIEWER),
    ("GET", "/videos", {"params": {"limit": 0}}, VIEWER),
    ("GET", "/videos/{video_id}", {}, VIEWER),
    ("DELETE", "/videos/{video_id}", {}, ADMIN),
    ("GET", "/videos/{video_id}/summary", {}, VIEWER),
    ("GET", "/videos/{video_id}/similar", {"params": {"limit": 0}}, VIEWER),
    ("GET", "/videos/{video_id}/segments/{index}/thumbnail", {}, VIEWER),
    ("GET", "/videos/{video_id}/stream", {}, VIEWER),
    ("POST", "/ingest", {"json": {"paths": []}}, ADMIN),
    ("POST", "/ingest/upload", {"params": {"name": "notes.txt"}, "content": b"x"}, ADMIN),
    ("GET", "/jobs", {"params": {"limit": 0}}, ADMIN),
    ("GET", "/jobs/{job_id}", {}, ADMIN),
    ("GET", "/index", {}, ADMIN),
    ("POST", "/reindex", {"params": {"rebuild": "maybe"}}, ADMIN),
    ("POST", "/train", {"params": {"steps": 0}}, ADMIN),
    ("GET", "/train", {}, ADMIN),
    ("POST", "/users", {"json": {}}, ADMIN),
    ("POST", "/events", {"json": {}}, SELF),
    ("GET", "/users/{user_id}/history", {"params": {"limit": 0}}, SELF),
    ("GET", "/users/{user_id}/recommendations", {"params": {"limit": 0}}, SELF),
    ("GET", "/users/{user_id}/continue", {"params": {"limit": 0}}, SELF),
]


def make_client(settings: Settings, *, host: str = "127.0.0.1") -> TestClient:
    app = create_app(settings, host=host)
    app.state.services = Services(settings)  # the lifespan's work, without loading models
    return TestClient(app, base_url=LOCAL_URL)


@pytest.fixture
def people(catalog: Settings) -> dict[str, dict]:
    """A user, an admin, and a user whose first token was replaced (the old one kept)."""
    ana = users.add_user(catalog, "ana")
    boss = users.add_user(catalog, "boss", admin=True)
    old = users.add_user(catalog, "olga")
    users.new_token(catalog, "olga")
    return {"user": ana, "admin": boss, "replaced": old}


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _call(client: TestClient, method: str, path: str, kwargs: dict, who: dict | None, token):
    me = who["user_id"] if who else 1
    url = path.format(video_id="nope", index=0, job_id=999999, user_id=me)
    return client.request(method, url, headers=_headers(token), **kwargs)


def _expected(rule: str, caller: str, local: bool) -> set[int] | str:
    """The status a caller gets: a set of refusals, or "allowed" (anything but 401/403)."""
    if caller in ("malformed", "replaced"):
        return {401} if rule != OPEN else {401, 200}
    if rule == OPEN:
        return "allowed"
    if caller == "nobody":
        return "allowed" if local and rule in (VIEWER, ADMIN) else {401}
    if rule == ADMIN and caller == "user":
        return {403}
    return "allowed"


CALLERS = ["nobody", "malformed", "replaced", "user", "admin"]


@pytest.mark.parametrize("mode", ["tokens", "local"])
def test_every_role_and_token_case_on_every_endpoint(catalog, people, mode):
    settings = catalog.model_copy(update={"auth": "required" if mode == "tokens" else "off"})
    client = make_client(settings)
    tokens = {
        "nobody": None,
        "malformed": "vsu_1_not-a-real-secret-at-all-000",
        "replaced": people["replaced"]["token"],
        "user": people["user"]["token"],
        "admin": people["admin"]["token"],
    }
    owners = {"user": people["user"], "admin": people["admin"], "replaced": people["replaced"]}
    wrong = []
    for method, path, kwargs, rule in ROUTES:
        for caller in CALLERS:
            who = owners.get(caller)
            r = _call(client, method, path, kwargs, who, tokens[caller])
            want = _expected(rule, caller, mode == "local")
            ok = r.status_code not in (401, 403) if want == "allowed" else r.status_code in want
            if rule != OPEN and caller != "nobody" and r.status_code == 401:
                ok = ok and r.headers.get("www-authenticate", "").startswith("Bearer")
            if not ok:
                wrong.append(f"{mode} {caller:9} {method} {path}: {r.status_code} {r.text[:80]}")
    assert not wrong, "\n".join(wrong)


def test_a_users_own_data_needs_their_token_even_in_local_mode(catalog, people):
    ana, boss = people["user"], people["admin"]
    for mode in ("required", "off"):
        client = make_client(catalog.model_copy(update={"auth": mode}))
        for what in ("history", "recommendations", "continue"):
            url = f"/users/{ana['user_id']}/{what}"
            assert client.get(url).status_code == 401, (mode, what)
            assert client.get(url, headers=_headers(ana["token"])).status_code == 200
            # An admin's token does not read another user's history either: 404, as for nobody.
            assert client.get(url, headers=_headers(boss["token"])).status_code == 404
        assert client.post("/events", json={"video_id": "x", "kind": "liked"}).status_code == 401


def test_every_route_is_in_the_role_table(settings):
    app = create_app(settings)
    listed = {(method, path) for method, path, _, _ in ROUTES}
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert routes == listed


def test_docs_and_health_are_open_and_say_nothing_private(catalog, people):
    client = make_client(catalog.model_copy(update={"auth": "required"}))
    add_ready_video(catalog, "secret-holiday.mp4", ["a"])
    for path in ["/health", "/openapi.json", "/docs"]:
        r = client.get(path)
        assert r.status_code == 200, path
        assert "secret-holiday" not in r.text
    assert client.get("/videos").status_code == 401


@pytest.mark.parametrize(
    "auth, host, headers, local",
    [
        ("auto", "127.0.0.1", {}, True),
        ("auto", "::1", {}, True),
        ("auto", "localhost", {}, True),
        ("auto", "0.0.0.0", {}, False),
        ("auto", "192.168.1.20", {}, False),
        ("auto", "127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, False),
        ("auto", "127.0.0.1", {"Forwarded": "for=203.0.113.9"}, False),
        ("required", "127.0.0.1", {}, False),
        ("off", "0.0.0.0", {}, True),
        ("off", "127.0.0.1", {"X-Real-IP": "203.0.113.9"}, True),
    ],
)
def test_local_mode_is_decided_by_the_setting_and_the_bound_address(
    settings, auth, host, headers, local
):
    client = make_client(settings.model_copy(update={"auth": auth}), host=host)
    r = client.get("/videos", headers=headers)
    assert r.status_code == (200 if local else 401), r.text


def test_the_start_up_line_says_who_may_call():
    s = Settings(auth="auto")
    assert "local single-user mode" in Access.decide(s, "127.0.0.1").describe()
    assert "tokens required" in Access.decide(s, "0.0.0.0").describe()
    assert "bound to 0.0.0.0" in Access.decide(s, "0.0.0.0").describe()
    loud = Access.decide(Settings(auth="off"), "0.0.0.0").describe()
    assert "ANYONE WHO CAN REACH IT" in loud
    assert all(is_loopback(h) for h in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
    assert not any(is_loopback(h) for h in ["0.0.0.0", "::", "10.0.0.1", "example.com", "", None])


def test_the_api_command_announces_the_mode_at_start_up(monkeypatch, settings, caplog):
    """`vidsearch api` hands its host to the app, whose lifespan logs the decision."""
    import uvicorn

    from ui.cli import serve

    seen = {}

    def fake_run(app, **kwargs):
        seen["access"] = app.state.access
        seen.update(kwargs)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    args = type("Args", (), {"host": "0.0.0.0", "port": 8123})()
    assert serve.cmd_api(args, settings) == 0
    assert seen["host"] == "0.0.0.0" and not seen["access"].local


# --- CORS ------------------------------------------------------------------------------------------


def test_cors_is_off_by_default_and_on_for_the_listed_origins_only(settings):
    origin = {"Origin": "https://evil.example"}
    plain = make_client(settings)
    r = plain.get("/health", headers=origin)
    assert "access-control-allow-origin" not in r.headers
    pre = plain.options("/videos", headers={**origin, "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in pre.headers

    allowed = make_client(settings.model_copy(update={"cors_origins": ["https://ui.example"]}))
    ok = allowed.get("/health", headers={"Origin": "https://ui.example"})
    assert ok.headers["access-control-allow-origin"] == "https://ui.example"
    bad = allowed.get("/health", headers=origin)
    assert "access-control-allow-origin" not in bad.headers


def test_cors_origins_read_from_the_environment(monkeypatch):
    from core.settings import load_settings

    monkeypatch.setenv("VIDSEARCH_CORS_ORIGINS", "https://a.example, https://b.example")
    assert load_settings().cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("VIDSEARCH_AUTH", "sometimes")
    from core.settings import SettingsError

    with pytest.raises(SettingsError, match="VIDSEARCH_AUTH"):
        load_settings()


# --- rate limits -----------------------------------------------------------------------------------


def test_the_token_bucket_refills_at_its_rate_and_bursts_a_sixth():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one a second, bursts of ten
    for _ in range(10):
        limiter.charge("a")
    with pytest.raises(RateLimited) as refused:
        limiter.charge("a")
    assert refused.value.status_code == 429 and refused.value.headers["Retry-After"] == "1"
    limiter.charge("b")  # another caller has its own bucket
    now[0] = 1.0
    limiter.charge("a")
    with pytest.raises(RateLimited):
        limiter.charge("a")
    RateLimiter(0).charge("anyone")  # 0: no limit


def test_requests_over_the_rate_limit_are_429_per_caller(catalog, people):
    settings = catalog.model_copy(update={"auth": "required", "rate_limit_per_minute": 12})
    client = make_client(settings)  # bursts of 2
    ana, boss = _headers(people["user"]["token"]), _headers(people["admin"]["token"])
    assert [client.get("/videos", headers=ana).status_code for _ in range(3)] == [200, 200, 429]
    r = client.get("/videos", headers=ana)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert "rate limit" in r.json()["detail"]
    assert client.get("/videos", headers=boss).status_code == 200  # boss has a bucket of his own
    # Guessing tokens is charged to the address: two bad guesses, then even /health waits.
    guess = _headers("vsu_2_guessguessguessguessguess")
    assert [client.get("/videos", headers=guess).status_code for _ in range(2)] == [401, 401]
    assert client.get("/health").status_code == 429


# --- request and upload sizes ------------------------------------------------------------------


def test_a_json_body_over_a_megabyte_is_413_before_it_is_read(catalog, people):
    client = make_client(catalog.model_copy(update={"auth": "required"}))
    token = _headers(people["user"]["token"])
    huge = b'{"video_id": "' + b"a" * (2 * 1024 * 1024) + b'", "kind": "liked"}'
    r = client.post("/events", content=huge, headers={**token, "Content-Type": "application/json"})
    assert r.status_code == 413 and "over the limit" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"video_id": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'", "kind": "liked"}'

    r = client.post(
        "/events", content=chunks(), headers={**token, "Content-Type": "application/json"}
    )
    assert r.status_code == 413


def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(settings):
    client = make_client(settings.model_copy(update={"max_upload_bytes": 1000}))
    r = client.post(
        "/ingest/upload", params={"name": "big.mp4"}, content=b"\0" * 5000, headers=BINARY
    )
    assert r.status_code == 413 and "over the limit of 1000 bytes" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"\0" * 400

    r = client.post("/ingest/upload", params={"name": "big.mp4"}, content=chunks(), headers=BINARY)
    assert r.status_code == 413
    leftovers = list(settings.uploads_dir.rglob("*")) if settings.uploads_dir.exists() else []
    assert [p for p in leftovers if p.is_file()] == []
    for bad_name in ["notes.txt", "noextension", ""]:
        r = client.post("/ingest/upload", params={"name": bad_name}, content=b"x", headers=BINARY)
        assert r.status_code == 422, bad_name
    r = client.post("/ingest/upload", params={"name": "empty.mp4"}, content=b"", headers=BINARY)
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    assert client.get("/jobs").json()["total"] == 0  # nothing was queued by any of it


def test_an_upload_name_cannot_leave_the_uploads_folder(settings, monkeypatch):
    from services import ingest

    monkeypatch.setattr("api.routers.jobs.start", lambda *a, **k: None)  # queue, do not run
    client = make_client(settings)
    for name in ["../../../etc/cron.d/evil.mp4", "a\nb\r.mp4", "-rf .mp4", "/abs/x.MP4"]:
        r = client.post(
            "/ingest/upload", params={"name": name}, content=b"not really a video", headers=BINARY
        )
        assert r.status_code == 202, (name, r.text)
        (job,) = r.json()["jobs"]
        stored = Path(job["path"])
        assert stored.resolve().is_relative_to(settings.uploads_dir.resolve()), stored
        assert "\n" not in stored.name and not stored.name.startswith(("-", "."))
        assert stored.read_bytes() == b"not really a video"
    assert ingest.upload_name("../../x.mp4") == "x.mp4"
    assert ingest.upload_name("ünïcode clip.mkv") == "ünïcode clip.mkv"


# --- path confinement for HTTP ingest ---------------------------------------------------------------


@pytest.fixture
def confined(settings: Settings, tmp_path: Path, monkeypatch):
    """The default roots (no VIDSEARCH_ALLOWED_ROOTS): HTTP may read home/videos only. A file
    outside it, a symlink inside it that points out, and a folder symlinked in from outside."""
    monkeypatch.setattr("api.routers.jobs.start", lambda *a, **k: None)  # queued; run by hand
    inside = settings.videos_dir
    inside.mkdir(parents=True)
    outside = tmp_path / "private"
    outside.mkdir()
    secret = outside / "secret.mp4"
    secret.write_bytes(b"\0" * 64)
    (inside / "link.mp4").symlink_to(secret)
    (inside / "linked-folder").symlink_to(outside, target_is_directory=True)
    (inside / "walk").mkdir()
    (inside / "walk" / "escape.mp4").symlink_to(secret)
    return make_client(settings), settings, secret


def test_http_ingest_reads_only_the_data_folders_videos_by_default(confined):
    client, settings, secret = confined
    assert settings.allowed_roots == []
    inside = settings.videos_dir
    for path in [
        str(secret),
        str(secret.parent),
        "/etc/passwd",
        "/",
        f"{inside}/../../private/secret.mp4",
        f"{inside}/../..",
        str(inside / "link.mp4"),
        str(inside / "linked-folder"),
        str(inside / "linked-folder" / "secret.mp4"),
        "relative/path.mp4",
        "~/videos/x.mp4",
    ]:
        r = client.post("/ingest", json={"paths": [path]})
        assert r.status_code == 403, (path, r.text)
        assert "outside the allowed roots" in r.json()["detail"]
        assert str(inside) in r.json()["detail"]  # the reason names where it may read
    assert client.get("/jobs").json()["total"] == 0  # nothing was queued, nothing was walked


def test_a_symlink_found_while_walking_fails_its_job_with_the_reason(confined):
    from services.ingest import job_view, run_jobs

    client, settings, secret = confined
    r = client.post("/ingest", json={"paths": [str(settings.videos_dir / "walk")]})
    assert r.status_code == 202
    (job,) = r.json()["jobs"]
    run_jobs(settings, [job["job_id"]])
    done = job_view(settings, job["job_id"])
    assert done["status"] == "failed" and "outside the allowed roots" in done["error"]
    assert done["video_id"] is None  # the file outside was never read


def test_a_refused_symlink_is_named_as_given_never_by_where_it_leads(confined):
    from services.ingest import job_view, run_jobs

    client, settings, secret = confined
    walked = client.post("/ingest", json={"paths": [str(settings.videos_dir / "walk")]})
    (job,) = walked.json()["jobs"]
    run_jobs(settings, [job["job_id"]])
    error = job_view(settings, job["job_id"])["error"]
    assert str(settings.videos_dir / "walk" / "escape.mp4") in error
    assert str(secret) not in error and "private" not in error


def test_a_file_swapped_for_a_symlink_after_it_was_queued_is_refused_when_it_runs(confined):
    from services.ingest import job_view, run_jobs

    client, settings, secret = confined
    real = settings.videos_dir / "real.mp4"
    real.write_bytes(b"\0" * 64)
    (job,) = client.post("/ingest", json={"paths": [str(real)]}).json()["jobs"]
    real.unlink()
    real.symlink_to(secret)
    run_jobs(settings, [job["job_id"]])
    done = job_view(settings, job["job_id"])
    assert done["status"] == "failed" and "outside the allowed roots" in done["error"]


def test_the_command_line_is_not_confined_unless_roots_are_set(settings, tmp_path):
    from core.errors import BadInput
    from indexer.register import check_path

    outside = tmp_path / "anywhere.mp4"
    outside.write_bytes(b"\0" * 64)
    assert check_path(outside, settings) == outside.resolve()
    with pytest.raises(BadInput, match="outside the allowed roots"):
        check_path(outside, settings, confined=True)
    rooted = settings.model_copy(update={"allowed_roots": [tmp_path / "media"]})
    with pytest.raises(BadInput, match="outside the allowed roots"):
        check_path(outside, rooted)
    assert rooted.http_roots == [tmp_path / "media", settings.uploads_dir]


# --- no secrets in logs ------------------------------------------------------------------------


def test_no_token_or_password_reaches_a_log(catalog, people, caplog):
    from core.logs import install_redaction, redact

    install_redaction()
    caplog.set_level(logging.DEBUG)
    client = make_client(catalog.model_copy(update={"auth": "required"}))
    secret = people["admin"]["token"]
    client.get("/videos", headers=_headers(secret))
    client.get("/videos", headers=_headers(secret + "x"))
    client.get("/videos", params={"token": secret})  # a client that put it in the URL
    for name in ("uvicorn.access", "vidsearch", "sqlalchemy.engine"):
        logging.getLogger(name).warning('"GET /videos?token=%s HTTP/1.1" 200', secret)
    logging.getLogger("x").error("connect to postgresql+psycopg://app:hunter2@db:5432/v failed")
    try:
        raise ValueError(f"bad credential Bearer {secret}")
    except ValueError:
        logging.getLogger("x").exception("while checking")
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert caplog.records
    assert secret.split("_", 2)[2] not in text and "hunter2" not in text
    assert "[redacted]" in text
    assert redact("vsu_12_abcDEF-_x9") == "vsu_12_[redacted]"
    assert redact("redis://:pw@host:6379/0") == "redis://:[redacted]@host:6379/0"
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer [redacted]"


def test_the_start_up_line_is_logged_when_the_app_is_made(settings, caplog):
    caplog.set_level(logging.INFO, logger="vidsearch")
    create_app(settings.model_copy(update={"auth": "required"}), host="127.0.0.1")
    assert any("tokens required" in r.getMessage() for r in caplog.records)
