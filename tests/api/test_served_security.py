"""The HTTP API probed as an attacker on the same network would, against a real `vidsearch api`
process on loopback in local single-user mode (its default): other websites cannot drive it
through a visitor's browser, a rebound host name gets nothing, any proxy header means a token
is needed, a forged X-Forwarded-For does not dodge the rate limit, the access log keeps its
shape and masks every token, and a refused upload leaves nothing on disk."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.guards import PROXY_HEADERS
from core.settings import Settings
from services import users
from tests.processes import ApiProcess, clean_env

pytestmark = [pytest.mark.slow, pytest.mark.real_models]
EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiProcess, Settings, dict]]:
    root = tmp_path_factory.mktemp("served-security")
    settings = Settings(home=root / "home")
    people = {
        "admin": users.add_user(settings, "boss", admin=True),
        "user": users.add_user(settings, "ana"),
    }
    env = clean_env(VIDSEARCH_HOME=str(settings.home), VIDSEARCH_SUMMARIES_AT_INDEX="false")
    server = ApiProcess(env, root / "api.log").start()
    try:
        yield server, settings, people
    finally:
        server.stop()


def test_other_websites_cannot_drive_local_mode_through_a_browser(api):
    server, settings, _ = api
    simple = {"Origin": EVIL, "Content-Type": "text/plain"}  # a request no preflight guards
    for method, path, kwargs in [
        ("POST", "/train", {"params": {"steps": 1}}),
        ("POST", "/reindex", {}),
        ("POST", "/ingest/upload", {"params": {"name": "x.mp4"}, "content": b"\0" * 64}),
        ("POST", "/ingest", {"content": '{"paths": ["/etc"]}'}),
        ("DELETE", "/videos/0123456789abcdef", {}),
    ]:
        r = httpx.request(method, server.base + path, headers=simple, **kwargs)
        assert r.status_code == 403, (path, r.text)
        referred = {"Referer": EVIL + "/page", "Content-Type": "text/plain"}
        assert (
            httpx.request(method, server.base + path, headers=referred, **kwargs).status_code == 403
        )
    assert httpx.get(server.base + "/train").json()["state"] == "idle", "no run was started"
    assert not settings.uploads_dir.exists() or not any(settings.uploads_dir.rglob("x.mp4"))
    # The owner's own programs (no Origin) and the API's own docs page still act.
    assert httpx.post(server.base + "/reindex").status_code == 200
    own = {"Origin": server.base}
    assert httpx.post(server.base + "/reindex", headers=own).status_code == 200


def test_a_foreign_host_name_gets_nothing_in_local_mode(api):
    server, _, _ = api
    for host in ["evil.example", f"evil.example:{server.port}", "127.0.0.1.nip.io"]:
        r = httpx.get(server.base + "/videos", headers={"Host": host})
        assert r.status_code == 400 and "does not answer" in r.json()["detail"], host
    assert httpx.get(
        server.base + "/videos", headers={"Host": f"localhost:{server.port}"}
    ).is_success


@pytest.mark.parametrize(
    "header", sorted(PROXY_HEADERS | {"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"})
)
def test_every_proxy_header_even_empty_forces_a_token(api, header):
    server, _, people = api
    for value in ["", "203.0.113.9"]:
        r = httpx.get(server.base + "/videos", headers={header: value})
        assert r.status_code == 401, (header, value, r.text)
    with_token = {header: "", "Authorization": f"Bearer {people['user']['token']}"}
    assert httpx.get(server.base + "/videos", headers=with_token).status_code == 200


def test_the_log_keeps_its_shape_and_masks_every_token(api):
    server, _, people = api
    secret = people["user"]["token"].split("_", 2)[2]
    before = len(server.log().splitlines())
    probes = [
        f"/health?x=vsu_1_{'a' * 60}",
        f"/health?token={secret}",
        f"/health?token=vsu%5F2%5F{secret}",
        f"/health?access_token={secret}&y=1",
        f"/health?q=vsu%255F2%255F{secret}",  # encoded twice
        f"/health?token=anything-at-all-{secret[:8]}",
    ]
    for path in probes:
        assert httpx.get(server.base + path).status_code == 200, path
    deadline = time.monotonic() + 10
    while len(server.log().splitlines()) < before + len(probes) and time.monotonic() < deadline:
        time.sleep(0.1)
    new = server.log().splitlines()[before:]
    health_lines = [line for line in new if "/health?" in line]
    assert len(health_lines) == len(probes), new  # one line each: no "Logging error" traceback
    assert not any("Logging error" in line or "Traceback" in line for line in new), new
    text = "\n".join(new)
    assert secret not in text and secret[:8] not in text and "a" * 60 not in text
    assert text.count("[redacted]") >= len(probes)


def test_a_refused_upload_leaves_nothing_on_disk(api):
    server, settings, _ = api
    junk = bytes(range(256)) * 4096  # 1 MB that is no video, under a video's name
    r = httpx.post(
        server.base + "/ingest/upload",
        params={"name": "holiday.mp4"},
        content=junk,
        headers={"Content-Type": "application/octet-stream"},
        timeout=60,
    )
    assert r.status_code == 202, r.text
    (job,) = r.json()["jobs"]
    deadline = time.monotonic() + 120
    while (done := httpx.get(f"{server.base}/jobs/{job['job_id']}").json())["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, done
        time.sleep(0.3)
    assert done["status"] == "failed" and "the uploaded file was removed" in done["error"]
    left = [p for p in settings.uploads_dir.rglob("*") if p.is_file()]
    assert left == [], left
    assert not Path(job["path"]).parent.exists()


def test_a_forged_x_forwarded_for_does_not_dodge_the_rate_limit(api):
    """Last in this module: it empties the bucket of the only real caller, 127.0.0.1."""
    server, _, _ = api
    codes = []
    with httpx.Client(base_url=server.base) as client:
        for i in range(200):
            forged = {"X-Forwarded-For": f"198.51.100.{i % 250}", "Authorization": "Bearer vsu_1_x"}
            codes.append(client.get("/videos", headers=forged).status_code)
    assert set(codes) <= {401, 429}
    # 600 a minute in bursts of 100: the rest of the 200 are refused whatever address they claim.
    assert codes.count(429) > 50, f"{codes.count(429)} of 200 refused: the bucket is per address"
