"""End to end in a real browser: Debian's Chromium, driven by Playwright, against `vidsearch ui`
serving the footage library on 127.0.0.1. As the owner: pick a profile (kept across a reload
and a new tab), search, open a result: the video element is at the moment's start, and playing,
pausing and liking are recorded as watch events. With sign-in required: nobody sees anything
but the form, a user signs in with a password and reaches no admin page. A screenshot is kept
under test-artifacts/ (VIDSEARCH_TEST_ARTIFACTS)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require, require_module
from tests.processes import UiProcess
from tests.ui.web.conftest import ROOT, TRAM_LINE

pytestmark = [pytest.mark.real_models, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(os.environ.get("VIDSEARCH_TEST_ARTIFACTS", ROOT / "test-artifacts"))


def watch_for_problems(page, problems: list[str] | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """What a page does wrong, as it happens: console errors, page errors, and its requests
    that answer 4xx or 5xx."""
    found = problems if problems is not None else []
    page.on("console", lambda m: found.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: found.append(f"page error: {e}"))
    page.on(
        "response",
        lambda r: found.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
    )
    return found


@pytest.fixture
def served_ui(footage_home: Path, tmp_path: Path) -> Iterator[str]:
    """`vidsearch ui` in its own process, as a person starts it; its URL once it is healthy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDSEARCH_", "STREAMLIT_"))}
    env |= {"VIDSEARCH_HOME": str(footage_home), "PYTHONPATH": str(ROOT)}
    ui = UiProcess(env, tmp_path / "ui.log", cwd=tmp_path).start()
    try:
        yield ui.url
    finally:
        ui.stop()


def test_search_open_a_result_and_the_player_starts_at_the_moment(
    served_ui, video_id_of, web_settings
):
    from services import users

    require(CHROMIUM.is_file(), f"{CHROMIUM} is missing: scripts/bootstrap.sh installs chromium")
    sync_api = require_module("playwright.sync_api", "pip install playwright (pyproject's dev set)")
    import httpx

    bikes = video_id_of("bikes.mp4")
    me = users.add_user(web_settings, "Browser")
    # The owner's loopback server: a page of another site cannot pick a profile through the
    # visitor's browser, and a host name rebound to 127.0.0.1 gets nothing at all.
    picked = httpx.post(
        f"{served_ui}/account/watch-as",
        data={"user_id": str(me["user_id"])},
        headers={"Origin": "http://evil.example"},
    )
    assert picked.status_code == 403 and "set-cookie" not in picked.headers
    assert httpx.get(served_ui, headers={"Host": "evil.example"}).status_code == 400
    started = time.perf_counter()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            problems = watch_for_problems(page)
            page.goto(served_ui, wait_until="domcontentloaded")
            # Watch as a profile: a form post that sets the session cookie, so a reload and a
            # new tab keep it.
            page.locator("form.vs-profile button", has_text="Browser").click()
            page.get_by_text("Watching as Browser", exact=True).wait_for(timeout=60_000)
            page.reload(wait_until="domcontentloaded")
            page.get_by_text("Watching as Browser", exact=True).wait_for(timeout=60_000)
            box = page.get_by_placeholder("Describe a moment", exact=False)
            box.fill("a tram passing the cyclists")
            box.press("Enter")
            card = page.locator(f".st-key-card-{bikes}")
            # The page streams in: wait for the moment's words, not just the card.
            card.get_by_text(TRAM_LINE).first.wait_for(timeout=90_000)
            card.get_by_role("link", name="bikes").click()

            page.wait_for_url(f"**/video?v={bikes}&t=1.28", timeout=30_000)
            page.get_by_text("Transcript").wait_for(timeout=60_000)
            try:
                page.wait_for_function(
                    "() => { const v = document.querySelector('video');"
                    " return v && v.readyState >= 1 && Math.abs(v.currentTime - 1.28) < 0.05; }",
                    timeout=30_000,
                )
            except sync_api.TimeoutError:
                state = page.evaluate(
                    "(() => { const v = document.querySelector('video'); return v && "
                    "{t: v.currentTime, ready: v.readyState, net: v.networkState, "
                    "src: (v.currentSrc || '').slice(-60), players: Object.keys("
                    "window.__vsPlayers || {}), listening: !!window.__vsListening}; })()"
                )
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "browser-video-page-failed.png"))
                raise AssertionError(f"the player never reached 1.28 s: {state}") from None
            current = page.evaluate("document.querySelector('video').currentTime")
            assert current == pytest.approx(1.28, abs=0.05)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "browser-video-page.png"))

            # Play (muted: browsers let a page start muted playback) and pause: both recorded.
            page.evaluate(
                "const v = document.querySelector('video'); v.muted = true; void v.play()"
            )
            page.wait_for_function("document.querySelector('video').currentTime > 2.5")
            page.evaluate("document.querySelector('video').pause()")
            deadline = time.monotonic() + 30
            while len(events := users.history(web_settings, user_id=me["user_id"])) < 2:
                assert time.monotonic() < deadline, events
                time.sleep(0.2)
            # A video opened in a new tab is watched by the same profile: it records too.
            tab = page.context.new_page()
            watch_for_problems(tab, problems)
            # Opened at its own address: the page asks the server's root, not /video/_stcore/...
            tab.goto(f"{served_ui}/video?v={bikes}&t=0", wait_until="domcontentloaded")
            tab.get_by_text("Watching as Browser", exact=True).wait_for(timeout=60_000)
            tab.get_by_role("button", name="Like", exact=True).click()
            deadline = time.monotonic() + 30
            while len(events := users.history(web_settings, user_id=me["user_id"])) < 3:
                assert time.monotonic() < deadline, events
                time.sleep(0.2)
        finally:
            browser.close()
    assert not problems, problems  # no console error, no request of the page's that failed
    liked, progress, start = events
    assert (liked["kind"], liked["video_id"]) == ("liked", bikes)
    assert (start["kind"], start["video_id"]) == ("started", bikes)
    assert start["position"] == pytest.approx(1.28, abs=0.05)
    assert progress["kind"] == "progress" and progress["position"] > 2.5
    print(f"browser test: {time.perf_counter() - started:.1f} s in the browser")


@pytest.fixture
def signed_in_ui(footage_home: Path, tmp_path: Path) -> Iterator[str]:
    """`vidsearch ui` with sign-in required, as docker compose runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDSEARCH_", "STREAMLIT_"))}
    env |= {"VIDSEARCH_HOME": str(footage_home), "PYTHONPATH": str(ROOT)}
    env |= {"VIDSEARCH_AUTH": "required"}
    ui = UiProcess(env, tmp_path / "ui.log", cwd=tmp_path).start()
    try:
        yield ui.url
    finally:
        ui.stop()


def test_with_sign_in_required_only_signed_in_people_see_the_library(signed_in_ui, web_settings):
    """Nobody gets the form and nothing else; a user signs in with a password (the HttpOnly
    cookie survives a reload and a new tab), sees no admin page, and signs out; other
    websites are refused at the door."""
    import httpx

    from services import users

    require(CHROMIUM.is_file(), f"{CHROMIUM} is missing: scripts/bootstrap.sh installs chromium")
    sync_api = require_module("playwright.sync_api", "pip install playwright (pyproject's dev set)")
    users.add_user(web_settings, "Watcher", password="correct horse battery")
    # At the door: a sign-in posted from another site, a rebound host name.
    form = {"username": "Watcher", "password": "correct horse battery", "next": "/"}
    forged = httpx.post(
        f"{signed_in_ui}/account/signin", data=form, headers={"Origin": "http://evil.example"}
    )
    assert forged.status_code == 403 and "vidsearch_session" not in forged.headers.get(
        "set-cookie", ""
    )
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            problems = watch_for_problems(page)
            page.goto(f"{signed_in_ui}/library", wait_until="domcontentloaded")
            page.get_by_role("heading", name="Sign in").wait_for(timeout=60_000)
            body = page.locator("body").inner_text()
            for private in ("bikes", "espresso", "Browser", "Add videos", "Re-index"):
                assert private not in body, private

            page.fill("input[name=username]", "watcher")
            page.fill("input[name=password]", "not the password")
            page.locator("form.vs-signin button[type=submit]").first.click()
            page.get_by_text("Wrong name, password or token.").wait_for(timeout=60_000)
            page.fill("input[name=username]", "watcher")
            page.fill("input[name=password]", "correct horse battery")
            page.locator("form.vs-signin button[type=submit]").first.click()
            # Back to the page the link named, signed in.
            page.get_by_role("heading", name="Library").wait_for(timeout=90_000)
            assert page.url.endswith("/library")
            cookie = next(c for c in page.context.cookies() if c["name"] == "vidsearch_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
            assert "vidsearch_session" not in page.evaluate("document.cookie")  # no script sees it
            nav = page.locator("[data-testid='stSidebarNav']").inner_text()
            assert "Library" in nav and "Add videos" not in nav and "Settings" not in nav
            page.reload(wait_until="domcontentloaded")
            page.get_by_text("Signed in as Watcher").wait_for(timeout=60_000)
            tab = page.context.new_page()
            tab.goto(f"{signed_in_ui}/ingest", wait_until="domcontentloaded")
            tab.get_by_text("This page is for admins").wait_for(timeout=60_000)
            assert tab.locator("[data-testid='stFileUploader']").count() == 0
            tab.close()
            page.get_by_role("button", name="Sign out").click()
            page.get_by_role("heading", name="Sign in").wait_for(timeout=60_000)
            assert not [c for c in page.context.cookies() if c["name"] == "vidsearch_session"]
        finally:
            browser.close()
    assert not problems, problems
