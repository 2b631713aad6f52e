"""A cold `vidsearch` loads only what its command needs: listings, help and a cached summary
import no model library at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core.db import session_scope
from core.models import Summary
from search.summary import EXTRACTIVE, EXTRACTIVE_MODEL, content_hash, timeline
from tests.catalog_helpers import add_ready_video

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "av", "faster_whisper", "celery", "qdrant_client")


def heavy_imports(home: Path, *argv: str) -> tuple[int, list[str]]:
    script = (
        "import sys, json, contextlib, io\n"
        "from ui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        code = main({list(argv)!r})\n"
        "    except SystemExit as exc:\n"
        "        code = exc.code\n"
        f"print(json.dumps([code, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDSEARCH_")}
    env |= {"PYTHONPATH": str(REPO), "VIDSEARCH_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    code, modules = json.loads(out.stdout.strip().splitlines()[-1])
    return code, modules


def test_help_listings_and_a_cached_summary_import_no_model_library(settings):
    vid = add_ready_video(settings, "a.mp4", ["Hello there.", "The cat sleeps."])
    with session_scope(settings) as s:
        from core.models import Video

        segments = s.get(Video, vid).segments
        s.add(
            Summary(
                video_id=vid,
                model=EXTRACTIVE_MODEL,
                method=EXTRACTIVE,
                content_hash=content_hash(timeline(segments)),
                text="0:00 – Hello there.",
            )
        )
    for argv in (["--help"], ["videos"], ["videos", "--json"], ["jobs"], ["summary", vid]):
        code, modules = heavy_imports(settings.home, *argv)
        assert code == 0 and modules == [], (argv, modules)
