"""Hybrid search on a small real library (real models, embedded default)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.settings import Settings
from core.vectors import SearchFilter
from indexer.media import Cue, write_video
from indexer.pipeline import run_ingest_job
from model_lifecycle.active import load_embedder
from search.service import SearchService
from search.types import QueryError
from services.ingest import create_jobs
from tests.conftest import colour_shots, require_module

pytestmark = pytest.mark.real_models


def ingest(settings: Settings, paths: list[Path]) -> None:
    for job_id in create_jobs(paths, settings):
        assert run_ingest_job(job_id, settings=settings) == "succeeded"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A narrated espresso clip, a two-shot clip whose second shot is subtitled, and silent footage."""
    from indexer.samples import NARRATION, narrated_clip

    skdata = require_module("skimage.data", "scripts/bootstrap.sh installs scikit-image")
    root = tmp_path_factory.mktemp("library")
    settings = Settings(home=root / "home", summaries_at_index=False)
    talk = root / "talks"
    talk.mkdir()
    narrated_clip(talk / "espresso.mp4", skdata.coffee(), NARRATION)
    write_video(
        root / "fields.mkv",
        colour_shots([3.0, 3.0], seed=3),
        subtitles=[Cue(3.5, 5.0, "a green field of barley at harvest time")],
    )
    from tests.conftest import shipped_videos

    bikes = next(p for p in shipped_videos() if p.name == "bikes.mp4")
    shutil.copyfile(bikes, root / "bikes.mp4")
    ingest(settings, [talk / "espresso.mp4", root / "fields.mkv", root / "bikes.mp4"])
    return settings, root


@pytest.fixture(scope="module")
def service(library):
    settings, _ = library
    return SearchService(settings, load_embedder(settings))


def names(response):
    return [Path(r.path).name for r in response.results]


def test_a_spoken_word_finds_its_video_first(service):
    response = service.search("espresso", limit=5)
    assert names(response)[0] == "espresso.mp4" and not response.cut_off


def test_a_moment_is_found_inside_the_right_shot(service):
    response = service.search("barley field harvest")
    top = response.results[0]
    assert Path(top.path).name == "fields.mkv"
    assert top.moments[0].start == pytest.approx(3.0, abs=0.3)  # the second shot starts at 3 s
    assert top.moments[0].end == pytest.approx(6.0, abs=0.3)


def test_a_general_word_finds_the_instance_the_classifier_names(service, library):
    """No caption says "beverage" or "vehicle": the concept signal reads the segments' stored
    class beliefs through WordNet's hierarchy."""
    for query, expected in (("a beverage", "espresso.mp4"), ("a wheeled vehicle", "bikes.mp4")):
        concept = service.signals(query)["concept"]
        assert concept and Path(concept[0].payload["path"]).name == expected, query
        assert concept[0].score > 0.2
        assert names(service.search(query))[0] == expected, query
    # A query that names no class the hierarchy knows leaves the signal silent.
    assert service.signals("the colour of the sky")["concept"] == []


def test_a_query_about_something_absent_is_answered_with_weak_results_only(service):
    for query in ("a volcano erupting", "quantum chromodynamics lecture", "an elephant herd"):
        response = service.search(query)
        assert response.cut_off and response.strong == 0, (query, names(response))
        # Never "nothing" while the library has candidates: the closest, each flagged weak.
        assert response.results and all(r.weak for r in response.results), query
        assert response.total == len(response.results)


def test_weak_results_follow_the_strong_ones_and_never_repeat_a_video(service):
    response = service.search("espresso")
    flags = [r.weak for r in response.results]
    assert flags[0] is False and True in flags, names(response)
    assert flags == sorted(flags)  # every strong result before every weak one
    assert len(set(names(response))) == len(flags)
    assert response.strong == flags.count(False)
    # The setting decides how many weak results follow; 0 is the strict cut-off of before.
    strict = SearchService(
        service.settings.model_copy(update={"weak_results": 0}), service.embedder, service.live
    )
    assert [r.weak for r in strict.search("espresso").results] == [False] * response.strong
    assert strict.search("a volcano erupting").results == []


def test_a_query_with_no_letter_or_digit_is_refused(service):
    with pytest.raises(QueryError, match="no words to search"):
        service.search("?!… ☕ —")


def test_rank_fusion_cannot_cut_off(service):
    # Why score fusion is the default: RRF returns *something* for any query.
    assert service.search("a volcano erupting", fusion="rrf").results


def test_filters_restrict_the_results(service, library):
    _, root = library
    # The closest unfiltered-out videos may follow as weak results; the filtered one never does.
    assert "espresso.mp4" not in names(
        service.search("espresso", flt=SearchFilter(has_speech=False))
    )
    assert names(service.search("espresso", flt=SearchFilter(folder=str(root / "talks")))) == [
        "espresso.mp4"
    ]
    assert names(service.search("espresso", flt=SearchFilter(folder=str(root / "elsewhere")))) == []
    assert names(service.search("espresso", flt=SearchFilter(min_duration=60))) == []


def test_paging_takes_slices_of_the_same_ranking(service):
    everything = service.search("a photo", limit=10, fusion="rrf")
    second = service.search("a photo", limit=1, offset=1, fusion="rrf")
    assert [r.video_id for r in second.results] == [everything.results[1].video_id]


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("", "empty"),
        ("   \t\n", "empty"),
        ("\x00\x07", "only control or invisible characters"),
        ("x" * 10_000, "limit is 1000"),
    ],
)
def test_unusable_queries_are_refused_with_a_reason(service, bad, reason):
    with pytest.raises(QueryError, match=reason):
        service.search(bad)


@pytest.mark.parametrize("limit", [0, -1, 10**6])
def test_out_of_range_limits_are_refused(service, limit):
    with pytest.raises(QueryError, match="limit"):
        service.search("espresso", limit=limit)


def test_control_characters_and_mixed_scripts_are_searchable(service):
    assert names(service.search("espresso\x00\x07"))[0] == "espresso.mp4"  # cleaned
    # Other scripts around a known word: the word still finds its video.
    assert names(service.search("кофе espresso コーヒー ☕"))[0] == "espresso.mp4"
    # Only other scripts: an answer (strong, or weak and flagged as such), never an error.
    response = service.search("кофе コーヒー café ☕")
    assert response.results and response.cut_off == all(r.weak for r in response.results)


@pytest.fixture
def own_library(tmp_path):
    """A library of this test's own (tests that add videos must not change the shared one)."""
    settings = Settings(home=tmp_path / "home", summaries_at_index=False)
    return settings, SearchService(settings, load_embedder(settings))


def test_more_like_this_finds_the_same_picture_and_leaves_the_video_itself_out(own_library):
    from indexer.samples import NARRATION, narrated_clip, pan_zoom_frames

    settings, service = own_library
    skdata = require_module("skimage.data", "scripts/bootstrap.sh installs scikit-image")
    media = settings.home.parent / "media"
    media.mkdir()
    narrated = narrated_clip(media / "espresso.mp4", skdata.coffee(), NARRATION)
    silent = write_video(media / "cup.mp4", pan_zoom_frames(skdata.coffee(), seconds=4.0))
    other = write_video(media / "fields.mkv", colour_shots([3.0, 3.0], seed=3))
    ingest(settings, [narrated, silent, other])

    found = service.search("Today I am making espresso").results
    espresso = next(r for r in found if Path(r.path).name == "espresso.mp4")
    related = service.more_like_this(espresso.video_id)
    assert names(related)[0] == "cup.mp4"  # the same photo, without the voice
    assert "espresso.mp4" not in names(related)
    with pytest.raises(LookupError):
        service.more_like_this("0000000000000000")


def test_a_photo_finds_the_video_made_from_it(service):
    skdata = require_module("skimage.data", "scripts/bootstrap.sh installs scikit-image")
    buf = io.BytesIO()
    Image.fromarray(skdata.coffee()).save(buf, format="PNG")
    response = service.search_image(buf.getvalue())
    assert names(response)[0] == "espresso.mp4"


def test_a_malformed_image_is_refused(service):
    with pytest.raises(QueryError, match="not a readable image"):
        service.search_image(b"GIF89a not really")
    with pytest.raises(QueryError, match="empty"):
        service.search_image(b"")


def test_a_newly_indexed_video_is_searchable_without_a_restart(own_library, tmp_path):
    settings, service = own_library
    first = write_video(
        tmp_path / "fields.mkv",
        colour_shots([2.0], seed=3),
        subtitles=[Cue(0.2, 1.8, "a green field of barley at harvest time")],
    )
    ingest(settings, [first])
    assert names(service.search("barley field")) == ["fields.mkv"]
    assert "tram.mkv" not in names(service.search("a tram on rails"))
    clip = write_video(
        tmp_path / "tram.mkv",
        colour_shots([2.0], seed=9),
        subtitles=[Cue(0.2, 1.8, "the old tram rattles along its rails")],
    )
    ingest(settings, [clip])
    assert "tram.mkv" in names(service.search("a tram on rails"))


def test_rerank_reorders_the_head_with_the_alignment_scores_of_its_clips(service, monkeypatch):
    # No cut-off here, so several videos come back to be reordered.
    monkeypatch.setattr(
        service, "settings", service.settings.model_copy(update={"relevance_threshold": 0.0})
    )
    query = "espresso coffee in a green barley field with a tram"
    plain = service.search(query, limit=10, fusion="score", rerank=False)
    assert len(plain.results) >= 2
    last = plain.results[-1]
    last_clips = {m.segment for m in last.moments}
    seen = []

    def favour_the_last(query, segments):  # stands in for the alignment head
        seen.append([s.shape for s in segments])
        return [float(len(s)) for s in segments]

    # Make the last video's clips recognisable by count: give them one more clip than any other.
    real = service._clip_features

    def features(keys):
        out = real(keys)
        return [
            np.vstack([f] * 50) if (vid == last.video_id and idx in last_clips) else f
            for (vid, idx), f in zip(keys, out, strict=True)
        ]

    monkeypatch.setattr(service, "_clip_features", features)
    monkeypatch.setattr(service.embedder, "align_scores", favour_the_last)
    reranked = service.search(query, limit=10, fusion="score", rerank=True)
    assert seen and all(
        len(shape) == 2 and shape[1] == 1280 for shape in seen[0]
    )  # real clip features
    assert reranked.results[0].video_id == last.video_id != plain.results[0].video_id
    assert {r.video_id for r in reranked.results} == {r.video_id for r in plain.results}
