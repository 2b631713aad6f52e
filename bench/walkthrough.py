"""What a new user does, scripted: the demo library (`vidsearch samples`, indexed), `vidsearch ui`
on 127.0.0.1 as `make demo` serves it, and Debian's Chromium driving it: the first page (its
placeholder and the library's tags), a search, a result opened and played, a profile added and
watched as, a like, a reload, a new tab, For you, a folder added, a file that is no video, the
Library. It fails on any console error, any 4xx or 5xx the page itself caused, and any blank
summary; it prints how long each step took and keeps screenshots.

    .venv/bin/python bench/walkthrough.py [--home DIR] [--out test-artifacts/walkthrough]

Without --home it builds the demo library in a temporary folder first (a few minutes)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.processes import UiProcess, clean_env  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BAD_FILE = b"this is a shopping list, not a video\n" * 2000


def build_demo_library(home: Path) -> None:
    env = clean_env(VIDSEARCH_HOME=str(home))
    cli = [sys.executable, "-m", "ui.cli"]
    subprocess.run([*cli, "samples"], env=env, check=True, capture_output=True, cwd=ROOT)
    subprocess.run([*cli, "ingest", str(home / "samples"), "--wait"], env=env, check=True, cwd=ROOT)


class Problems:
    """Everything the page did wrong: console errors and failed requests it made."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, page) -> None:  # type: ignore[no-untyped-def]
        page.on(
            "console",
            lambda m: (
                self.items.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                self.items.append(f"HTTP {r.status} {r.request.method} {r.url}")
                if r.status >= 400
                else None
            ),
        )
        page.on("pageerror", lambda e: self.items.append(f"page error: {e}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", default=None, help="a library to use (default: build the demo's)")
    parser.add_argument("--out", default=str(ROOT / "test-artifacts" / "walkthrough"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="vidsearch-walkthrough-"))
    home = Path(args.home) if args.home else work / "home"
    if not args.home:
        print(f"building the demo library in {home} ...", flush=True)
        build_demo_library(home)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # A folder inside the roots the server may read (home/videos), with one clip, to add.
    folder = home / "videos" / "holiday"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(home / "samples" / "carphone_pristine.mp4", folder / "carphone.mp4")
    bad = work / "shopping.mp4"
    bad.write_bytes(BAD_FILE)

    newbie = f"Newbie {time.strftime('%H%M%S')}"  # a profile of its own, run after run
    server = UiProcess(clean_env(VIDSEARCH_HOME=str(home)), work / "ui.log")
    problems = Problems()
    steps: list[tuple[str, float]] = []
    last = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        steps.append((name, now - last[0]))
        last[0] = now

    try:
        server.start(timeout=120)
        step("server answers")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_FLAGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            problems.watch(page)
            page.goto(server.url, wait_until="domcontentloaded")
            page.get_by_placeholder("Describe a moment", exact=False).wait_for(timeout=60_000)
            page.get_by_text("Seen in your videos:").wait_for(timeout=60_000)
            step("first page: placeholder and tags")
            page.screenshot(path=str(out / "1-first-page.png"))

            # A profile, watched as (kept by the cookie from here on).
            page.get_by_role("button", name="Add a profile").click()
            page.get_by_label("Name").fill(newbie)
            page.get_by_role("button", name="Add", exact=True).click()
            page.locator("form.vs-post button", has_text=f"Watch as {newbie}").click()
            page.get_by_text(f"Watching as {newbie}", exact=True).wait_for(timeout=60_000)
            step("profile added and watched as")

            box = page.get_by_placeholder("Describe a moment", exact=False)
            box.fill("a cup of coffee")
            box.press("Enter")
            page.get_by_text("Relevance").first.wait_for(timeout=120_000)
            step("search answered")
            page.screenshot(path=str(out / "2-search.png"))
            page.locator("[class*='st-key-card-'] a").first.click()
            page.get_by_text("Transcript").wait_for(timeout=60_000)
            page.wait_for_function("document.querySelector('video')?.readyState >= 2")
            page.evaluate("const v = document.querySelector('video'); v.muted = true; v.play()")
            page.wait_for_timeout(1500)
            page.get_by_role("button", name="Like", exact=True).click()
            page.get_by_text("Recorded: like").wait_for(timeout=30_000)
            step("opened, played, liked")
            page.screenshot(path=str(out / "3-video.png"))

            page.reload(wait_until="domcontentloaded")
            page.get_by_text(f"Watching as {newbie}", exact=True).wait_for(timeout=60_000)
            tab = context.new_page()
            problems.watch(tab)
            tab.goto(f"{server.url}/for-you", wait_until="domcontentloaded")
            tab.get_by_text(f"Watching as {newbie}", exact=True).wait_for(timeout=60_000)
            tab.get_by_text("Recommended for you").wait_for(timeout=60_000)
            step("reload and a new tab keep the profile; For you")
            tab.screenshot(path=str(out / "4-for-you.png"))

            tab.goto(f"{server.url}/ingest", wait_until="domcontentloaded")
            tab.get_by_role("tab", name="A folder on the server").click()
            tab.get_by_label("A folder or file on the server").fill(str(folder))
            tab.get_by_role("button", name="Index this folder").click()
            tab.get_by_text("carphone.mp4").first.wait_for(timeout=60_000)
            tab.get_by_role("tab", name="Upload files").click()
            tab.locator("input[type=file]").set_input_files(str(bad))
            tab.get_by_role("button", name="Index these files").click()
            tab.get_by_text("not a media file").first.wait_for(timeout=120_000)
            step("a folder added, a bad file refused with its reason")
            tab.screenshot(path=str(out / "5-add-videos.png"))

            tab.goto(f"{server.url}/library", wait_until="domcontentloaded")
            tab.get_by_role("heading", name="Library").wait_for(timeout=60_000)
            tab.wait_for_timeout(2000)
            step("library")
            tab.screenshot(path=str(out / "6-library.png"), full_page=True)
            browser.close()
    finally:
        server.stop()

    from core.settings import Settings
    from services.library import page_videos
    from services.summaries import summary_of

    settings = Settings(home=home)
    blank = []
    for video in page_videos(settings, status="ready", limit=500).items:
        if not summary_of(settings, video["video_id"]).summary.strip():
            blank.append(video["title"])
    for name, seconds in steps:
        print(f"{seconds:7.1f} s  {name}")
    print(f"screenshots: {out}")
    failed = problems.items + [f"blank summary: {t}" for t in blank]
    if failed:
        print("FAILED:\n  " + "\n  ".join(failed))
        return 1
    print("walkthrough: no console error, no failed request, no blank summary")
    return 0


if __name__ == "__main__":
    sys.exit(main())
