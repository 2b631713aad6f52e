"""End to end in a real browser: Debian's Chromium, driven by Playwright, against `vidsearch ui`
serving the footage library on 127.0.0.1. Sign in, search, open a result: the video element is
at the moment's start, and playing and pausing it are recorded as watch events. A screenshot
is kept under test-artifacts/ (VIDSEARCH_TEST_ARTIFACTS)."""

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
    bikes = video_id_of("bikes.mp4")
    me = users.add_user(web_settings, "Browser")
    started = time.perf_counter()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(served_ui, wait_until="domcontentloaded")
            page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
            page.get_by_role("option", name="Browser").click()
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
        finally:
            browser.close()
    progress, start = events
    assert (start["kind"], start["video_id"]) == ("started", bikes)
    assert start["position"] == pytest.approx(1.28, abs=0.05)
    assert progress["kind"] == "progress" and progress["position"] > 2.5
    print(f"browser test: {time.perf_counter() - started:.1f} s in the browser")
