"""A video without speech still gets a summary: opencv-doc's vtest.avi (1:19 of people walking
past a lawn, no sound track) indexed with the real shipped models and summarized from what it
shows, each line naming its own stretch of time. Its moments and its page's words never carry
the classifier's raw top classes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from core.db import session_scope
from core.models import Segment
from core.settings import Settings
from tests.conftest import require

pytestmark = pytest.mark.real_models
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
LINE = re.compile(r"^(\d+:\d\d)(?:–(\d+:\d\d))? – (.+)$")


def _seconds(clock: str) -> int:
    minutes, seconds = clock.split(":")
    return int(minutes) * 60 + int(seconds)


def test_a_silent_video_is_summarized_from_what_it_shows_stretch_by_stretch(tmp_path):
    from services.ingest import run_jobs, submit
    from services.library import page_videos, video_detail
    from services.summaries import summary_of

    require(VTEST.is_file(), f"{VTEST} is missing: scripts/bootstrap.sh installs opencv-doc")
    media = tmp_path / "media"
    media.mkdir()
    shutil.copyfile(VTEST, media / VTEST.name)
    settings = Settings(home=tmp_path / "home", summaries_at_index=False)
    assert set(run_jobs(settings, submit(settings, [media])).values()) == {"succeeded"}
    (video,) = page_videos(settings).items
    assert not video["has_speech"]

    summary = summary_of(settings, video["video_id"])
    lines = summary.summary.splitlines()
    assert lines, "a silent video's summary is never blank"
    spans = []
    for line in lines:
        match = LINE.match(line)
        assert match, line
        start, end, text = match.groups()
        assert text.strip() and text != "Shows ."
        spans.append((_seconds(start), _seconds(end) if end else _seconds(start)))
    assert len(set(spans)) == len(spans), f"each line covers a stretch of its own: {lines}"
    assert spans == sorted(spans) and spans[0][0] == 0
    assert spans[-1][1] == int(video["duration"]), "the lines reach the end of the video"

    # What people are told each segment shows: hedged tags and looks, never raw top classes.
    with session_scope(settings) as session:
        captions = {s.index: s.caption for s in session.query(Segment)}
    for seg in video_detail(settings, video["video_id"])["segment_list"]:
        raw = re.search(r"\[seen: ([^\]]*)\]", captions[seg["index"]])
        top_classes = [t.strip() for t in raw.group(1).split(",")] if raw else []
        shown = seg["seen"]
        assert shown, "a silent segment still says what it looks like"
        tags = set(t.strip() for t in (seg["tags"] or "").split(",") if t.strip())
        assert not [c for c in top_classes if c in shown and c not in tags], (shown, top_classes)
