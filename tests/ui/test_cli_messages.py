"""What the command line says in the cases a new user trips on: silent moments, a video with
nothing like it, an empty library, the in-process index, a finished skipped job."""

from __future__ import annotations

import numpy as np

from tests.catalog_helpers import add_ready_video
from ui.cli.output import moment_label


def test_a_silent_moment_says_what_it_shows_and_never_prints_blank():
    assert moment_label("hello there\n[seen: tabby cat]") == "hello there"
    assert moment_label("[seen: tabby cat, sofa]") == "(shows tabby cat, sofa)"
    assert moment_label("") == "(no speech; nothing recognised)"
    assert moment_label("[seen: ]") == "(no speech; nothing recognised)"


def test_related_with_nothing_similar_says_so_without_mentioning_a_query(cli, settings, capsys):
    axes = np.eye(64, dtype=np.float32)
    a = add_ready_video(settings, "a.mp4", ["alpha"], dim=64, video_vectors=axes[:1], seed=1)
    add_ready_video(settings, "b.mp4", ["beta"], dim=64, video_vectors=axes[1:2], seed=2)
    code, out = cli("related", a)
    assert code == 0
    # Said first; the closest the library has follows under its own heading, flagged weak.
    assert out[:2] == [
        "nothing else in the library is similar enough to this video",
        "closest (no strong match):",
    ]
    assert "b.mp4" in out[2]
    code, out = cli("related", a, "--segment", "0")
    assert out[0] == "nothing else in the library is similar enough to this moment"
    code, out = cli("related", a, "--json")
    (body,) = out
    assert body["cut_off"] is True and [r["weak"] for r in body["results"]] == [True]
    code, _ = cli("related", "0000000000000000")
    assert code == 2 and "is not indexed" in capsys.readouterr().err


def test_searching_an_empty_library_says_to_ingest_first(cli, capsys):
    code, out = cli("search", "a cat", "--json")
    assert code == 0 and out == [{"results": [], "cut_off": True, "total": 0}]
    assert "vidsearch ingest PATH" in capsys.readouterr().err
    code, _ = cli("search", "   ")
    assert code == 2 and "query is empty" in capsys.readouterr().err


def test_doctor_reports_what_the_in_process_index_will_hold(cli, settings):
    add_ready_video(settings, "a.mp4", ["one", "two"])
    add_ready_video(settings, "b.mp4", ["three"], seed=1)
    add_ready_video(settings, "c.mp4", ["four"], seed=2, status="failed")
    _, out = cli("doctor", "--json")
    checks = {c["name"]: c for c in out[0]["checks"]}
    assert "3 segments of 2 ready videos" in checks["vector index"]["detail"]


def test_listings_of_an_empty_library_say_how_to_start(cli):
    assert cli("videos") == (0, ["no videos yet: vidsearch ingest PATH"])
    assert cli("jobs") == (0, ["no jobs yet: vidsearch ingest PATH"])
