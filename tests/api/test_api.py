"""The HTTP API against PostgreSQL, with real models and real files."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from core.settings import Settings
from indexer.media import Cue, write_video
from indexer.pipeline import run_ingest_job
from services.ingest import create_jobs
from tests.conftest import colour_shots
from tests.http import LOCAL_URL

pytestmark = [pytest.mark.real_models, pytest.mark.postgres]


@pytest.fixture
def api_env(tmp_path: Path, pg_url: str):
    # HTTP ingest reads only under the allowed roots (home/videos when unset): allow the media.
    settings = Settings(
        home=tmp_path / "home", database_url=pg_url, allowed_roots=[tmp_path / "media"]
    )
    media = tmp_path / "media"
    media.mkdir()
    clip = write_video(
        media / "harbour.mkv",
        colour_shots([3.0, 3.0], seed=4),
        subtitles=[
            Cue(0.5, 2.5, "fishing boats return to the harbour at dawn"),
            Cue(3.5, 5.5, "gulls circle over the nets"),
        ],
    )
    for job_id in create_jobs([clip], settings):
        assert run_ingest_job(job_id, settings=settings) == "succeeded"
    with TestClient(create_app(settings), base_url=LOCAL_URL) as client:
        yield client, settings, clip, media


def _video_id(client: TestClient) -> str:
    return client.get("/videos").json()["videos"][0]["video_id"]


def test_health_search_and_video_details(api_env):
    client, _, clip, _ = api_env
    assert client.get("/health").json() == {"status": "ok", "videos": 1, "mode": "embedded"}
    body = client.get("/search", params={"q": "gulls over nets"}).json()
    assert body["cut_off"] is False
    top = body["results"][0]
    assert top["path"] == str(clip) and top["moments"][0]["start"] == pytest.approx(3.0, abs=0.3)
    detail = client.get(f"/videos/{top['video_id']}").json()
    assert [s["index"] for s in detail["segment_list"]] == [0, 1]
    assert detail["segment_list"][1]["transcript"] == "gulls circle over the nets"


def test_a_query_with_no_good_match_says_so(api_env):
    client, *_ = api_env
    body = client.get("/search", params={"q": "a volcano erupting at night"}).json()
    # Nothing strong: the closest the library has, each result flagged weak.
    assert body["cut_off"] is True and body["total"] == len(body["results"]) > 0
    assert all(r["weak"] is True for r in body["results"])
    strong = client.get("/search", params={"q": "gulls circle over the nets"}).json()
    assert strong["cut_off"] is False and strong["results"][0]["weak"] is False


def test_thumbnails_are_jpegs(api_env):
    client, *_ = api_env
    r = client.get(f"/videos/{_video_id(client)}/segments/1/thumbnail")
    assert (
        r.status_code == 200
        and r.headers["content-type"] == "image/jpeg"
        and r.content[:2] == b"\xff\xd8"
    )
    assert client.get(f"/videos/{_video_id(client)}/segments/7/thumbnail").status_code == 404


def test_range_requests_return_the_right_bytes(api_env):
    client, _, clip, _ = api_env
    data = clip.read_bytes()
    vid = _video_id(client)
    whole = client.get(f"/videos/{vid}/stream")
    assert (
        whole.status_code == 200
        and whole.content == data
        and whole.headers["accept-ranges"] == "bytes"
    )
    part = client.get(f"/videos/{vid}/stream", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = client.get(f"/videos/{vid}/stream", headers={"Range": "bytes=-50"})
    assert tail.content == data[-50:]
    past = client.get(f"/videos/{vid}/stream", headers={"Range": f"bytes={len(data) + 10}-"})
    assert past.status_code == 416


def test_a_vanished_file_is_a_clear_error(api_env):
    client, _, clip, _ = api_env
    clip.rename(clip.with_suffix(".moved"))
    r = client.get(f"/videos/{_video_id(client)}/stream")
    assert r.status_code == 410 and "gone" in r.json()["detail"]


def test_summary_and_query_focused_summary(api_env):
    client, *_ = api_env
    vid = _video_id(client)
    body = client.get(f"/videos/{vid}/summary").json()
    assert body["method"] == "extractive" and body["video_id"] == vid
    # Each line names the stretch it covers: the first shot, then the second.
    assert "0:00–0:03 – fishing boats return to the harbour at dawn" in body["summary"]
    focused = client.get(f"/videos/{vid}/summary", params={"q": "gulls"}).json()
    assert "gulls" in focused["summary"] and "0:03" in focused["summary"]
    # A weak result is no match to focus on: nothing in the video matches a volcano.
    nothing = client.get(f"/videos/{vid}/summary", params={"q": "a volcano erupting"})
    assert nothing.status_code == 404 and "no moment" in nothing.json()["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 10_000},
        {"q": "boats", "limit": 0},
        {"q": "boats", "limit": -3},
        {"q": "boats", "limit": 10**9},
        {"q": "boats", "offset": -1},
        {},
        {"q": "\x00\x01"},
    ],
)
def test_bad_search_parameters_are_422_with_reasons(api_env, params):
    client, *_ = api_env
    r = client.get("/search", params=params)
    assert r.status_code == 422 and r.json()["detail"]


def test_control_characters_and_mixed_scripts_are_not_errors(api_env):
    client, *_ = api_env
    assert client.get("/search", params={"q": "boats\u200b\x07 лодки 船 🚢"}).status_code == 200


def test_unknown_ids_are_404(api_env):
    client, *_ = api_env
    for url in (
        "/videos/nope",
        "/videos/nope/summary",
        "/videos/nope/similar",
        "/videos/nope/stream",
        "/videos/nope/segments/0/thumbnail",
        "/jobs/999999",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert r.json()["detail"], url


def test_image_queries_and_malformed_uploads(api_env):
    client, _, clip, _ = api_env
    # A frame of the clip's first shot, as someone would upload a screenshot of it.
    buf = io.BytesIO()
    Image.fromarray(next(colour_shots([1.0], seed=4))).save(buf, format="PNG")
    ok = client.post("/search/image", files={"image": ("shot.png", buf.getvalue(), "image/png")})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["cut_off"] is False and [r["path"] for r in body["results"]] == [str(clip)]
    assert body["results"][0]["moments"], "a hit names the moments that look alike"
    bad = client.post("/search/image", files={"image": ("x.png", b"\x89PNG broken", "image/png")})
    assert bad.status_code == 422 and "not a readable image" in bad.json()["detail"]
    assert client.post("/search/image").status_code == 422


def test_ingest_through_the_api_and_follow_the_job(api_env):
    client, settings, _, media = api_env
    new = write_video(
        media / "field.mkv",
        colour_shots([2.0], seed=8),
        subtitles=[Cue(0.2, 1.5, "a tractor ploughs the field")],
    )
    (media / "junk.mp4").write_bytes(b"not a video at all")
    r = client.post("/ingest", json={"paths": [str(new), str(media / "junk.mp4")]})
    assert r.status_code == 202
    jobs = {Path(j["path"]).name: j["job_id"] for j in r.json()["jobs"]}
    deadline = time.monotonic() + 120
    states = {}
    while time.monotonic() < deadline:
        states = {name: client.get(f"/jobs/{jid}").json() for name, jid in jobs.items()}
        if all(s["status"] in ("succeeded", "failed", "skipped") for s in states.values()):
            break
        time.sleep(0.3)
    assert states["field.mkv"]["status"] == "succeeded"
    assert states["junk.mp4"]["status"] == "failed" and "junk.mp4" in states["junk.mp4"]["error"]
    assert client.get("/search", params={"q": "tractor ploughing"}).json()["results"][0][
        "path"
    ] == str(new)
    assert client.post("/ingest", json={"paths": []}).status_code == 422
    # A path that does not exist is a job that fails with the reason, like any bad file.
    gone = client.post("/ingest", json={"paths": [str(media / "nothing-here.mp4")]})
    assert gone.status_code == 202
    (job,) = gone.json()["jobs"]
    deadline = time.monotonic() + 60
    while job["status"] not in ("succeeded", "failed", "skipped") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/jobs/{job['job_id']}").json()
    assert job["status"] == "failed" and "does not exist" in job["error"]
    # An empty folder holds nothing to index: refused at once.
    (media / "empty").mkdir()
    assert client.post("/ingest", json={"paths": [str(media / "empty")]}).status_code == 422


def test_the_openapi_schema_lists_every_endpoint(api_env):
    client, *_ = api_env
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {
        "/search",
        "/search/image",
        "/videos",
        "/videos/{video_id}",
        "/videos/{video_id}/summary",
        "/videos/{video_id}/segments/{index}/thumbnail",
        "/videos/{video_id}/stream",
        "/ingest",
        "/jobs/{job_id}",
        "/health",
        "/users",
        "/events",
        "/users/{user_id}/history",
        "/users/{user_id}/recommendations",
        "/users/{user_id}/continue",
    } <= paths


def test_the_lifespan_makes_the_recommender_and_its_endpoints_need_a_token(api_env):
    from services.users import add_user

    client, settings, clip, _ = api_env
    assert client.get("/users/1/recommendations").status_code == 401
    ana = add_user(settings, "ana")
    r = client.get(
        f"/users/{ana['user_id']}/recommendations",
        headers={"Authorization": f"Bearer {ana['token']}"},
    )
    assert r.status_code == 200
    [only] = r.json()["results"]
    assert only["path"] == str(clip) and only["reason"] == "new"


def test_docs_work_offline_from_packaged_assets(api_env):
    client, *_ = api_env
    for page, asset in (
        ("/docs", "/docs-static/swagger-ui-bundle.js"),
        ("/redoc", "/docs-offline/redoc.standalone.js"),
    ):
        html = client.get(page)
        assert html.status_code == 200 and asset in html.text
        assert "cdn." not in html.text and "googleapis" not in html.text
        js = client.get(asset)
        assert js.status_code == 200 and len(js.content) > 100_000
        # ReDoc's footer logo came from its CDN: the bundle served here asks no other host.
        assert "cdn.redoc.ly" not in js.text


def test_videos_and_jobs_are_paged_and_counted(api_env):
    from services.ingest import create_jobs
    from tests.catalog_helpers import add_ready_video

    client, settings, _, media = api_env
    for i in range(4):
        add_ready_video(settings, f"extra{i}.mp4", ["x"] * (i + 1), seed=i)
    add_ready_video(settings, "broken.mp4", ["x"], status="failed", seed=9)
    everything = client.get("/videos").json()
    assert everything["total"] == 6 and len(everything["videos"]) == 6
    page = client.get("/videos", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 6
    assert [v["video_id"] for v in page["videos"]] == [
        v["video_id"] for v in everything["videos"][1:3]
    ]
    segments = {v["title"]: v["segments"] for v in everything["videos"]}
    assert segments["extra3.mp4"] == 4 and segments["harbour"] == 2
    failed = client.get("/videos", params={"status": "failed"}).json()
    assert failed["total"] == 1 and failed["videos"][0]["title"] == "broken.mp4"

    create_jobs([media / f"queued{i}.mp4" for i in range(3)], settings)  # never run
    jobs = client.get("/jobs", params={"limit": 2}).json()
    assert jobs["total"] == 4 and len(jobs["jobs"]) == 2
    assert jobs["jobs"][0]["path"].endswith("queued2.mp4")  # newest first
