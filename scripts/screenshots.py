"""The README's screenshots of the web UI, taken from the demo library (after `make demo` has
indexed it) in Debian's Chromium, as the browser test drives it:

    VIDSEARCH_HOME=.vidsearch .venv/bin/python scripts/screenshots.py [--out docs]

A "Demo" profile gets a little history first (a video half watched, one liked), so that the
For-you page has something to continue and reasons to give. PNGs are reduced to a palette to
stay small."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.processes import UiProcess  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def demo_profile() -> str:
    """The Demo profile with a half-watched and a liked video (made once)."""
    from core.settings import get_settings
    from services import users
    from services.library import page_videos

    settings = get_settings()
    if any(u["name"] == "Demo" for u in users.list_users(settings)):
        return "Demo"
    user = users.add_user(settings, "Demo")
    videos = {Path(v["path"]).stem: v for v in page_videos(settings, status="ready").items}
    if "vtest" in videos:
        users.record_event(
            settings,
            user_id=user["user_id"],
            video_id=videos["vtest"]["video_id"],
            kind="started",
            position=31.0,
        )
    if "espresso_narrated" in videos:
        users.record_event(
            settings,
            user_id=user["user_id"],
            video_id=videos["espresso_narrated"]["video_id"],
            kind="liked",
        )
    return "Demo"


def shrink(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--query", default="tram")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from core.settings import get_settings
    from services.library import page_videos

    profile = demo_profile()
    videos = {Path(v["path"]).stem: v for v in page_videos(get_settings()).items}
    espresso = videos["espresso_narrated"]["video_id"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server = UiProcess(dict(os.environ, PYTHONPATH=str(ROOT)), Path(os.devnull))
    url = server.url
    try:
        server.start(timeout=90)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_FLAGS)
            page = browser.new_context(viewport={"width": 1280, "height": 820}).new_page()
            page.goto(url)
            page.locator("form.vs-profile button", has_text=profile).click()
            page.get_by_text(f"Watching as {profile}", exact=True).wait_for(timeout=60_000)
            box = page.get_by_placeholder("Describe a moment", exact=False)
            box.fill(args.query)
            box.press("Enter")
            page.get_by_text("Relevance").first.wait_for(timeout=120_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "ui-search.png"))

            page.get_by_role("link", name="For you").click()
            page.get_by_text("Continue watching").wait_for(timeout=60_000)
            page.wait_for_timeout(2000)
            page.screenshot(path=str(out / "ui-for-you.png"))

            page.get_by_role("link", name="Search").click()  # same session: same profile
            box = page.get_by_placeholder("Describe a moment", exact=False)
            box.fill("espresso")
            box.press("Enter")
            page.locator(f".st-key-card-{espresso}").get_by_role("link").first.click()
            page.get_by_text("Transcript").wait_for(timeout=60_000)
            page.wait_for_function("document.querySelector('video')?.readyState >= 2")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "ui-video.png"))
            browser.close()
    finally:
        server.stop()
    for name in ("ui-search.png", "ui-video.png", "ui-for-you.png"):
        shrink(out / name)
        print(f"{out / name}: {(out / name).stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
