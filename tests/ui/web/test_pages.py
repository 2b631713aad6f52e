"""Every page of the web UI, driven by Streamlit's AppTest against a real embedded library built
from real footage (tests/ui/web/conftest.py): the pages run as in a browser session, with the
real models, catalog and background ingest runner behind them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services import users, web_sessions
from services.library import page_videos
from tests.ui.web.conftest import APP, TRAM_LINE, wait_for_jobs

pytestmark = pytest.mark.real_models


# The cookie the browser of the next AppTest sends: AppTest cannot send cookies, so the page's
# one reader of them (ui.web.viewer.browser_cookie) is pointed here. The cookie itself is a real
# session, made and checked by services.web_sessions as in a browser.
BROWSER: dict[str, str | None] = {"cookie": None}


@pytest.fixture(autouse=True)
def _browser(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.web import viewer

    BROWSER["cookie"] = None
    monkeypatch.setattr(viewer, "browser_cookie", lambda: BROWSER["cookie"])


def open_app(*, viewer: dict | None = None, page: str | None = None, **query: str) -> AppTest:
    """The app as the machine's owner sees it (the tests' servers run as `vidsearch ui` on
    loopback does), watching as ``viewer`` when given: a profile picked in the sidebar."""
    from core.settings import get_settings

    if viewer is not None:
        BROWSER["cookie"] = web_sessions.sign_in_local(get_settings(), viewer["user_id"]).cookie
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.query_params.update(query)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def search(at: AppTest, query: str) -> AppTest:
    at.text_input(key="q").input(query).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def keys(at: AppTest, prefix: str) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith(prefix)]


def a_viewer(settings, name: str) -> dict:
    user = users.add_user(settings, name)
    return {"user_id": user["user_id"], "name": user["name"]}


# --- search ----------------------------------------------------------------------------------
def test_a_search_returns_cards_with_thumbnail_title_relevance_and_moments(
    web_settings, video_id_of
):
    at = search(open_app(), "a tram passing the cyclists")
    bikes = video_id_of("bikes.mp4")
    titles = [link.proto.label for link in at.get("page_link")]
    assert titles[0] == "**bikes**"
    assert f"v={bikes}" in at.get("page_link")[0].proto.query_string
    assert at.image, "each card shows the thumbnail of its best moment"
    bar = at.progress[0]
    assert 0 < bar.value <= 100 and bar.proto.text.startswith("Relevance")
    chips = keys(at, f"chip-{bikes}-")
    assert chips == [f"chip-{bikes}-1"]  # the tram moment, the second shot
    assert at.button(key=chips[0]).label.startswith("▶ 0:01")
    assert any(TRAM_LINE in m.value for m in at.markdown), "the moment's transcript text"
    summary = next(e for e in at.expander if e.label == "Summary")
    assert summary.markdown or summary.get("caption")
    assert "match “a tram passing the cyclists”" in at.caption[1].value


def test_a_timestamp_chip_plays_the_video_from_that_moment(web_settings, video_id_of):
    at = search(open_app(), "a tram passing the cyclists")
    bikes = video_id_of("bikes.mp4")
    assert not at.get("video")
    at.button(key=f"chip-{bikes}-1").click().run()
    (video,) = at.get("video")
    assert video.proto.start_time == 1  # st.video counts whole seconds...
    (player_events,) = at.get("bidi_component")
    data = json.loads(player_events.proto.json)
    assert data["start"] == pytest.approx(1.28, abs=0.01)  # ...the page seeks to the moment
    assert video.proto.autoplay


def test_an_empty_query_suggests_what_the_library_shows_and_a_suggestion_searches(web_settings):
    at = open_app()
    suggestions = [b for b in at.button if b.key is None and b.label and b.proto.type == "tertiary"]
    assert "espresso" in [b.label for b in suggestions]
    next(b for b in suggestions if b.label == "espresso").click().run()
    assert at.text_input(key="q").value == "espresso"
    assert at.get("page_link")[0].proto.label == "**espresso narrated**"


def test_nothing_strong_shows_the_closest_under_its_own_label(web_settings):
    at = search(open_app(), "a volcano erupting under the northern lights")
    assert not at.info  # not "nothing": the closest the library has, and said to be weak
    assert "No strong match for" in at.caption[1].value
    labels = [m.value for m in at.markdown]
    assert "**No strong match. Closest:**" in labels
    assert at.get("page_link"), "the closest videos are listed as cards"


def test_weak_matches_come_after_the_strong_ones_under_a_label(web_settings):
    at = search(open_app(), "a tram passing the cyclists")
    labels = [m.value for m in at.markdown]
    assert "**No strong match. Closest:**" not in labels
    assert "**Weaker matches:**" in labels
    # The strong card (bikes) comes before the label, the weak ones after it.
    order = [
        e.value if e.type == "markdown" else e.proto.label
        for e in at.main
        if e.type in ("markdown", "page_link")
        and (e.type == "page_link" or e.value == "**Weaker matches:**")
    ]
    assert order[0] == "**bikes**" and order.index("**Weaker matches:**") > 0


def test_a_picture_finds_the_video_it_comes_from(web_settings, video_id_of):
    from services.library import thumbnail_file

    city = video_id_of("cityCC0.mpg")
    at = open_app()
    at.file_uploader(key="picture").upload(
        "frame.jpg", thumbnail_file(web_settings, city, 0).read_bytes(), "image/jpeg"
    )
    at.run()
    assert at.get("page_link")[0].proto.label == "**cityCC0**"
    assert "your picture" in at.caption[1].value


def test_filters_narrow_the_results(web_settings):
    at = open_app()
    at.toggle(key="f-speech").set_value(True)
    search(at, "a tram passing the cyclists")
    assert "**bikes**" in [link.proto.label for link in at.get("page_link")]  # subtitles are speech
    at.selectbox(key="f-length").set_value("Over 10 minutes").run()
    assert "Nothing in your library comes close" in at.info[0].value


# --- the video page ----------------------------------------------------------------------------
def test_the_video_page_plays_from_the_moment_with_summary_transcript_tags_and_related(
    web_settings, video_id_of
):
    bikes = video_id_of("bikes.mp4")
    at = open_app(page="views/video.py", v=bikes, t="1.28")
    assert at.title[0].value == "bikes"
    assert at.get("video")[0].proto.start_time == 1
    assert json.loads(at.get("bidi_component")[0].proto.json)["start"] == 1.28
    assert any("Extractive summary" in c.value for c in at.caption), "the summary's method"
    assert keys(at, f"seek-{bikes}-") == [f"seek-{bikes}-0", f"seek-{bikes}-1"]
    assert any(TRAM_LINE in m.value for m in at.markdown), "the transcript"
    # Hedged tags: the classifier hesitates between a tram and a rickshaw, so the page says
    # what it is sure of, a vehicle.
    assert any("badge[" in m.value and "vehicle" in m.value for m in at.markdown), "visual tags"
    related = [link.proto.label for link in at.get("page_link")]
    assert related and "bikes" not in related


def test_a_transcript_timestamp_moves_the_player(web_settings, video_id_of):
    espresso = video_id_of("espresso_narrated.mp4")
    at = open_app(page="views/video.py", v=espresso)
    assert at.get("video")[0].proto.start_time == 0
    bikes = video_id_of("bikes.mp4")
    at.query_params["v"] = bikes
    at.run()
    at.button(key=f"seek-{bikes}-1").click().run()
    assert at.get("video")[0].proto.start_time == 1
    assert at.query_params["t"] == "1.28"


def test_a_video_browsers_cannot_play_gets_a_copy_they_can(web_settings, video_id_of):
    city = video_id_of("cityCC0.mpg")
    at = open_app(page="views/video.py", v=city)
    (video,) = at.get("video")
    assert video.proto.url.endswith(".mp4") and not at.error


def test_liking_and_disliking_record_events_for_whoever_is_watching(web_settings, video_id_of):
    bikes = video_id_of("bikes.mp4")
    nobody = open_app(page="views/video.py", v=bikes)
    assert nobody.button(key=f"liked-{bikes}").disabled

    viewer = a_viewer(web_settings, "Liker")
    at = open_app(viewer=viewer, page="views/video.py", v=bikes)
    at.button(key=f"liked-{bikes}").click().run()
    at.button(key=f"disliked-{bikes}").click().run()
    at.button(key=f"completed-{bikes}").click().run()
    history = users.history(web_settings, user_id=viewer["user_id"])
    assert [(e["kind"], e["video_id"]) for e in history] == [
        ("completed", bikes),
        ("disliked", bikes),
        ("liked", bikes),
    ]
    assert history[0]["position"] == pytest.approx(10.0, abs=0.05)


def test_what_the_player_reports_becomes_watch_events_of_whoever_is_watching(
    web_settings, video_id_of, monkeypatch
):
    """The player component's messages (started, progress, completed, from the browser's
    <video>) are recorded; the browser's end may run past the catalog's and is held to it."""
    from ui.web import player, viewer

    espresso = video_id_of("espresso_narrated.mp4")
    me = a_viewer(web_settings, "Player")
    watching = viewer.Viewer(me["user_id"], me["name"], "user", owner=True)
    monkeypatch.setattr(viewer, "current", lambda: watching)
    for event in (
        {"kind": "started", "position": 0.0},
        {"kind": "progress", "position": 4.5},
        {"kind": "completed", "position": 8.93},
        {"kind": "hacked", "position": 1},
        {"kind": "progress", "position": "soon"},
        None,
    ):
        player.record_player_event(web_settings, espresso, event, duration=8.88)
    history = users.history(web_settings, user_id=me["user_id"])
    assert [(e["kind"], e["position"]) for e in history] == [
        ("completed", 8.88),
        ("progress", 4.5),
        ("started", 0.0),
    ]
    monkeypatch.setattr(viewer, "current", lambda: None)
    assert not player.record_player_event(
        web_settings, espresso, {"kind": "started", "position": 0}, duration=8.88
    )


# --- who is watching, For you ------------------------------------------------------------------
def test_adding_a_profile_shows_its_token_once_and_offers_to_watch_as_it(web_settings):
    at = open_app()
    at.sidebar.text_input[0].input("Newcomer")
    at.sidebar.button[0].click().run()
    assert any(c.value.startswith("vsu_") for c in at.sidebar.code)
    newcomer = next(u for u in users.list_users(web_settings) if u["name"] == "Newcomer")
    forms = " ".join(h.proto.body for h in at.sidebar.get("html"))
    assert 'action="/account/watch-as"' in forms
    assert f'name="user_id" value="{newcomer["user_id"]}"' in forms
    at.run()
    assert not any(c.value.startswith("vsu_") for c in at.sidebar.code)


def test_for_you_welcomes_a_new_user_then_continues_and_recommends(web_settings, video_id_of):
    nobody = open_app(page="views/for_you.py")
    assert "Pick who is watching" in nobody.info[0].value

    viewer = a_viewer(web_settings, "Fresh")
    at = open_app(viewer=viewer, page="views/for_you.py")
    assert "Welcome, Fresh" in at.info[0].value
    assert [s.value for s in at.main.subheader] == ["New and popular"]
    assert len(at.get("page_link")) >= 3

    bikes, espresso = video_id_of("bikes.mp4"), video_id_of("espresso_narrated.mp4")
    uid = viewer["user_id"]
    users.record_event(web_settings, user_id=uid, video_id=bikes, kind="started", position=4.0)
    users.record_event(web_settings, user_id=uid, video_id=espresso, kind="liked")
    at = open_app(viewer=viewer, page="views/for_you.py")
    assert not at.info
    assert [s.value for s in at.main.subheader] == ["Continue watching", "Recommended for you"]
    first = at.get("page_link")[0]
    assert first.proto.label == "bikes" and "t=4.00" in first.proto.query_string
    reasons = [c.value for c in at.caption if "·" in c.value]
    assert reasons[0].startswith("0:10 · resume at 0:04")
    labels = [link.proto.label for link in at.get("page_link")[1:]]
    assert labels and "bikes" not in labels and "espresso narrated" not in labels
    assert len(reasons) == 1 + len(labels), "every recommendation says why"


# --- library and ingest ------------------------------------------------------------------------
def test_the_library_lists_every_video_with_status_duration_and_summary(web_settings):
    at = open_app(page="views/library.py")
    ready = page_videos(web_settings, status="ready").total
    assert at.metric[1].label == "Ready" and at.metric[1].value == str(ready)
    titles = [link.proto.label for link in at.get("page_link")]
    assert {"**bikes**", "**cityCC0**", "**espresso narrated**"} <= set(titles)
    assert any("Good morning" in m.value for m in at.markdown), "summaries"
    # Every video was summarized when it was indexed, the silent ones too: none says otherwise.
    assert not any("No summary yet" in c.value for c in at.caption)
    assert keys(at, "reindex-") and keys(at, "remove-")


def test_ingesting_a_bad_file_shows_its_reason_on_the_page_and_in_the_library(web_settings):
    at = open_app(page="views/ingest.py")
    at.file_uploader[0].upload("holiday.mp4", b"this is not a video at all", "video/mp4")
    at.button(key="FormSubmitter:upload-Index these files").click().run()
    from services.library import page_jobs

    job = page_jobs(web_settings, limit=1).items[0]
    uploaded = Path(job["path"])
    assert uploaded.name == "holiday.mp4"
    assert uploaded.parent.parent == web_settings.uploads_dir, "kept under VIDSEARCH_HOME/uploads"
    wait_for_jobs(web_settings, [job["job_id"]])
    assert not uploaded.parent.exists(), "a refused upload leaves nothing on disk"
    at.run()
    reasons = [e.value for e in at.error]
    assert any("holiday.mp4" in r and "not a media file" in r for r in reasons), reasons
    assert not any("Traceback" in r for r in reasons)

    library = open_app(page="views/library.py")
    assert "Files that could not be indexed" in [s.value for s in library.subheader]
    assert any("not a media file" in e.value for e in library.error)


def test_a_folder_outside_the_allowed_roots_is_refused_with_its_reason(
    web_settings, monkeypatch, tmp_path
):
    from core.settings import get_settings

    monkeypatch.setenv("VIDSEARCH_ALLOWED_ROOTS", str(tmp_path / "videos"))
    get_settings.cache_clear()
    at = open_app(page="views/ingest.py")
    at.tabs[1].text_input[0].input("/etc")
    at.button(key="FormSubmitter:folder-Index this folder").click().run()
    assert "outside the allowed roots" in at.error[0].value


def test_reindexing_and_removing_a_video_from_the_library(web_settings, footage_home, tmp_path):
    from indexer.samples import shipped_footage
    from services.ingest import run_jobs, submit
    from services.library import page_jobs

    carphone = next(p for p in shipped_footage() if p.name == "carphone_pristine.mp4")
    copy = tmp_path / "carphone.mp4"
    copy.write_bytes(carphone.read_bytes())
    (job,) = submit(web_settings, [copy])
    assert run_jobs(web_settings, [job]) == {job: "succeeded"}
    vid = next(v["video_id"] for v in page_videos(web_settings).items if v["path"] == str(copy))

    at = open_app(page="views/library.py")
    at.button(key=f"reindex-{vid}").click().run()
    assert "Re-indexing" in at.info[0].value
    newest = page_jobs(web_settings, limit=1).items[0]
    assert newest["path"] == str(copy) and newest["job_id"] != job
    (reindexed,) = wait_for_jobs(web_settings, [newest["job_id"]])
    assert reindexed["status"] == "succeeded" and reindexed["video_id"] == vid

    at = open_app(page="views/library.py")
    at.button(key=f"remove-{vid}").click().run()
    assert "Removed “carphone”" in at.info[0].value
    assert vid not in {v["video_id"] for v in page_videos(web_settings).items}
    assert copy.exists(), "a file people pointed at stays on disk"


# --- settings --------------------------------------------------------------------------------
def test_settings_shows_what_the_doctor_reports(web_settings):
    at = open_app(page="views/settings.py")
    health = [m.value for m in at.markdown]
    for check in ("catalog", "vector index", "text model", "device"):
        assert f"**{check}**" in health, check
    # Icons, not emoji: a server without an emoji font would draw boxes.
    assert any(":material/check_circle:" in m for m in health)
    assert not any(ch in m for m in health for ch in "✅❌")
    assert "Everything is in order." in at.success[0].value
    assert "People" in [h.value for h in at.subheader]  # the owner may add people here
    config = at.table[-1].value
    assert "embedded" in " ".join(map(str, config["value"]))


def test_the_page_stops_with_a_reason_on_a_bad_setting(web_settings, monkeypatch):
    from core.settings import get_settings

    monkeypatch.setenv("VIDSEARCH_FUSION", "loudest")
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    shown = at.error[0].value.replace("\\", "")  # markdown escapes
    assert "VIDSEARCH_FUSION" in shown and "loudest" in shown


def test_every_page_file_is_in_the_navigation():
    pages = {p.name for p in (Path(APP).parent / "views").glob("*.py")}
    source = Path(APP).read_text()
    assert all(f"ui.{name.removesuffix('.py').upper()}" in source for name in pages)


# --- what a new user trips on ----------------------------------------------------------------
def test_a_silent_video_page_says_what_it_shows_once_and_never_no_speech_per_line(
    web_settings, video_id_of
):
    city = video_id_of("cityCC0.mpg")
    at = open_app(page="views/video.py", v=city)
    shown = [m.value for m in at.markdown]
    assert not any("(no speech)" in m for m in shown)
    assert [c.value for c in at.caption].count(
        "No speech in this video: what each stretch shows."
    ) == 1
    assert "**Seen in this video**" in shown, "a city at night is at least dark"
    assert any("badge[" in m and "dark" in m for m in shown)
    summary = next(m for m in shown if "–" in m and ":" in m)  # the summary's timed lines
    assert summary.strip() and "0:00" in summary
    assert "0:08" in " ".join(c.value for c in at.caption), "its length as the player rounds it"


def test_result_moments_show_only_tags_as_sure_as_the_model(web_settings, video_id_of):
    from core.db import session_scope
    from core.models import Segment

    city = video_id_of("cityCC0.mpg")
    with session_scope(web_settings) as s:
        rows = s.query(Segment).filter(Segment.video_id == city).all()
        raw = {
            t.strip() for r in rows for t in r.caption.split("[seen:")[-1].strip(" ]").split(",")
        }
        hedged = {t.strip() for r in rows for t in r.tags.split(",") if t.strip()}
    unsure = raw - hedged - {""}
    assert unsure, "the classifier's top classes for a city at night include wrong ones"
    at = search(open_app(), "a city at night")
    card = " ".join(m.value for m in at.markdown)
    assert "cityCC0" in " ".join(link.proto.label for link in at.get("page_link"))
    assert not [t for t in unsure if t in card], unsure


def test_add_videos_says_which_folders_it_reads_and_why_a_folder_is_refused(web_settings, tmp_path):
    at = open_app(page="views/ingest.py")
    told = " ".join(c.value for c in at.tabs[1].caption)
    assert str(web_settings.videos_dir) in told and "VIDSEARCH_ALLOWED_ROOTS" in told
    assert "Any folder this server can read" not in told
    at.tabs[1].text_input[0].input(str(tmp_path / "no-such-folder"))
    at.button(key="FormSubmitter:folder-Index this folder").click().run()
    assert "does not exist" in at.error[0].value
    at.tabs[1].text_input[0].input(str(tmp_path))  # exists, outside the roots
    at.button(key="FormSubmitter:folder-Index this folder").click().run()
    refused = at.error[0].value.replace("\\", "")  # markdown escapes
    assert "outside the allowed roots" in refused and "VIDSEARCH_ALLOWED_ROOTS" in refused


def test_a_length_is_where_the_players_timeline_ends(web_settings, video_id_of):
    from services.library import video_detail
    from services.playback import player_length
    from ui.web import components as ui

    # cityCC0.mpg lasts 7.6 s from a start offset of 0.54 s: the player shows 0:08.
    city = video_id_of("cityCC0.mpg")
    assert video_detail(web_settings, city)["duration"] == pytest.approx(7.6, abs=0.05)
    assert player_length(web_settings, city) == pytest.approx(8.14, abs=0.05)
    espresso = video_id_of("espresso_narrated.mp4")
    assert player_length(web_settings, espresso) == pytest.approx(8.9, abs=0.05)
    assert ui.duration_label(8.9) == "0:08"  # cut, as the player cuts it
