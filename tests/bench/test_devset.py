"""The development set: its spec is consistent, and a reduced build gives files that match it."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench import devset
from bench.devset import ITEMS, DevSet, build_devset, resolve_queries, shot_ranges
from indexer.media import AUDIO_RATE, decode_audio, probe
from indexer.samples import shipped_footage
from tests.conftest import IN_CI

# One of each kind: stills (one from matplotlib), two montages, two narrated clips, two pieces of
# footage in other containers. About 6 s to build on 2 cores.
SUBSET = {"cat", "espresso", "hopper", "animals", "town", "grandmother", "pancakes"}
SUBSET |= {"carphone", "tree", "cat_mug", "megamind"}  # a Kivy photo, opencv-doc's extra footage


def _need_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        message = "espeak-ng is not installed (Debian package espeak-ng)"
        if IN_CI:
            pytest.fail(message + " (CI=true: the narrated videos must be built)")
        pytest.skip(message)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DevSet:
    return build_devset(tmp_path_factory.mktemp("devset"), only=SUBSET)


# --- the spec, without building ---------------------------------------------------------------


def test_the_full_spec_has_every_kind_of_video_and_query() -> None:
    kinds = [it.kind for it in ITEMS]
    assert 40 <= len(ITEMS) <= 70
    assert all(kinds.count(k) >= 3 for k in ("still", "montage", "narrated", "footage"))
    queries = resolve_queries(ITEMS)
    assert len(queries) == len(devset.QUERIES), "with every video present no query is dropped"
    counts = {k: sum(q.kind == k for q in queries) for k in devset.KINDS}
    assert counts["visual"] >= 30 and counts["speech"] >= 8 and counts["absent"] >= 8
    assert len({q.text for q in queries}) == len(queries), "query texts are unique"
    assert len({it.file for it in ITEMS}) == len(ITEMS), "file names are unique"


def test_the_split_keeps_each_video_in_one_part_and_every_kind_in_both() -> None:
    queries = resolve_queries(ITEMS)
    assert {q.part for q in queries} == set(devset.PARTS)
    for part in devset.PARTS:
        mine = [q for q in queries if q.part == part]
        counts = {k: sum(q.kind == k for q in mine) for k in devset.KINDS}
        assert counts["visual"] >= 25 and counts["speech"] >= 5 and counts["absent"] >= 5, part
    # Each video's own queries (those naming it first) are all in that video's part, so settings
    # tuned on one part never saw the other part's videos asked for.
    by_file = {it.file: it.key for it in ITEMS}
    for q in queries:
        if q.relevant:
            assert q.part == devset.VIDEO_PARTS[by_file[q.relevant[0]]], q.text
    # Within each kind of video the parts differ by one at most: no kind lives in one part.
    for kind in ("still", "montage", "narrated", "footage"):
        parts = [devset.VIDEO_PARTS[it.key] for it in ITEMS if it.kind == kind]
        assert abs(parts.count("tune") - parts.count("test")) <= 1, kind
    # The split depends on the spec alone: resolving again gives the same parts.
    assert [q.part for q in resolve_queries(ITEMS)] == [q.part for q in queries]


def test_file_names_do_not_give_the_content_away() -> None:
    # A file name becomes a title; "cat.mp4" would answer "a cat" for the search engine.
    words = {w for text, _, _ in devset.QUERIES for w in text.lower().replace(",", "").split()}
    for item in ITEMS:
        stem = Path(item.file).stem
        assert stem.split("_")[0] in {"still", "montage", "narrated", "footage"}
        assert not any(len(w) > 3 and w in stem for w in words), item.file


def test_every_query_of_the_full_spec_points_at_videos_and_shots_that_exist() -> None:
    files = {it.file: it for it in ITEMS}
    for q in resolve_queries(ITEMS):
        if q.kind == "absent":
            assert q.relevant == [] and q.moments == {}, q.text
            continue
        assert q.relevant and set(q.relevant) <= set(files), q.text
        for name, (start, end) in q.moments.items():
            item = files[name]
            assert item.kind == "montage" and name in q.relevant, q.text
            bounds = {t for r in shot_ranges(item).values() for t in r}
            assert start in bounds and end in bounds and 0 <= start < end, (q.text, start, end)


def test_a_query_keeps_only_the_videos_that_were_built() -> None:
    only_cat = [it for it in ITEMS if it.key == "cat"]
    queries = {q.text: q for q in resolve_queries(only_cat)}
    assert queries["a pet"].relevant == [only_cat[0].file] and queries["a pet"].moments == {}
    assert "a squirrel eating on a branch" not in queries, "a query left with nothing is dropped"
    assert "an elephant" in queries, "absent queries stay"


# --- a reduced build --------------------------------------------------------------------------


def test_the_build_makes_what_it_was_asked_for(built: DevSet) -> None:
    assert {e.key for e in built.entries.values()} == SUBSET
    assert [p.name for p in built.videos] == list(built.entries)
    assert all(p.parent == built.root and p.is_file() for p in built.videos)
    # The manifest keeps each query's part, and a part is a subset of the set's queries.
    again = devset.build_devset(built.root, only=SUBSET)
    assert [(q.text, q.part) for q in again.queries] == [(q.text, q.part) for q in built.queries]
    assert {q.text for q in built.part("test")} | {q.text for q in built.part("tune")} == {
        q.text for q in built.queries
    }
    with pytest.raises(ValueError, match="no part"):
        built.part("validation")


def test_every_video_probes_with_the_duration_of_its_spec(built: DevSet) -> None:
    items = {it.file: it for it in ITEMS}
    sources = {p.name: p for p in shipped_footage()} | devset.EXTRA_FOOTAGE
    for path in built.videos:
        entry, item = built.entries[path.name], items[path.name]
        info = probe(path)
        assert info.duration == pytest.approx(entry.duration, abs=0.05), path.name
        if item.kind == "footage":
            assert entry.duration == probe(sources[str(item.footage)]).duration
            continue
        nominal = sum(s for _, _, s in item.shots)
        if item.kind == "narrated":  # longer only if this espeak-ng speaks more slowly
            assert entry.duration >= nominal, path.name
        else:
            assert entry.duration == nominal, path.name
        assert info.fps == devset.FPS and info.width <= 480 and info.height <= 320, path.name


def test_every_relevant_file_of_every_query_exists(built: DevSet) -> None:
    names = {p.name for p in built.videos}
    assert built.queries
    for q in built.queries:
        assert set(q.relevant) <= names, q.text
        assert all((built.root / n).is_file() for n in q.relevant), q.text


def test_moments_lie_inside_their_video_on_its_shot_boundaries(built: DevSet) -> None:
    moments = [(q, name, r) for q in built.queries for name, r in q.moments.items()]
    assert len(moments) >= 5, "the subset holds two montages"
    for q, name, (start, end) in moments:
        entry = built.entries[name]
        assert 0 <= start < end <= probe(built.root / name).duration + 1e-6, q.text
        bounds = {t for s, e, _ in entry.shots for t in (s, e)}
        assert start in bounds and end in bounds, (q.text, start, end, entry.shots)
    dog = next(q for q in built.queries if q.text == "a small dog with its tongue out")
    montage = next(e for e in built.entries.values() if e.key == "animals")
    assert dog.moments == {montage.file: (4.0, 8.0)}


def test_narrated_videos_have_an_audible_voice(built: DevSet) -> None:
    _need_espeak()
    narrated = [e for e in built.entries.values() if e.kind == "narrated"]
    assert len(narrated) == 2
    for entry in narrated:
        path = built.root / entry.file
        assert probe(path).has_audio and entry.has_audio, entry.file
        audio = decode_audio(path)
        lead = int(devset.NARRATION_LEAD * AUDIO_RATE)
        assert len(audio) / AUDIO_RATE == pytest.approx(entry.duration, abs=0.1)
        # silence first, then speech: the voice is where the spec says it is
        assert np.abs(audio[: lead // 2]).max() < 0.01 < np.abs(audio[lead:]).max()
    speech = [q for q in built.queries if q.kind == "speech"]
    assert speech and {n for q in speech for n in q.relevant} <= {e.file for e in narrated}
    assert not any(e.has_audio for e in built.entries.values() if e.kind in ("still", "montage"))


def test_absent_queries_have_no_relevant_files(built: DevSet) -> None:
    absent = [q for q in built.queries if q.kind == "absent"]
    assert len(absent) == sum(kind == "absent" for _, kind, _ in devset.QUERIES)
    assert all(q.relevant == [] and q.moments == {} for q in absent)


def test_queries_json_holds_the_same_set(built: DevSet) -> None:
    raw = json.loads((built.root / devset.MANIFEST).read_text())
    assert [q["text"] for q in raw["queries"]] == [q.text for q in built.queries]
    assert [v["file"] for v in raw["videos"]] == [p.name for p in built.videos]
    q = next(q for q in raw["queries"] if q["moments"])
    start, end = next(iter(q["moments"].values()))
    assert math.isfinite(start) and math.isfinite(end)


def test_building_again_reuses_the_files(built: DevSet) -> None:
    stamps = {p.name: p.stat().st_mtime_ns for p in built.videos}
    again = build_devset(built.root, only=SUBSET)
    assert {p.name: p.stat().st_mtime_ns for p in again.videos} == stamps
    assert again.queries == built.queries and again.entries == built.entries


def test_a_missing_file_rebuilds_and_another_spec_clears_the_old_files(tmp_path: Path) -> None:
    first = build_devset(tmp_path, only={"cat", "carphone"})
    cat, _ = first.videos
    cat.unlink()
    second = build_devset(tmp_path, only={"cat", "carphone"})
    assert cat.is_file() and second.videos == first.videos
    third = build_devset(tmp_path, only={"cat"})
    assert third.videos == [cat]
    assert {p.name for p in tmp_path.iterdir()} == {cat.name, devset.MANIFEST}


def test_without_narration_there_are_no_narrated_videos_or_speech_queries(tmp_path: Path) -> None:
    ds = build_devset(tmp_path, narrated=False, only={"cat", "grandmother"})
    assert [e.key for e in ds.entries.values()] == ["cat"]
    assert not any(q.kind == "speech" for q in ds.queries)


def test_missing_espeak_skips_the_narrated_videos_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(devset.shutil, "which", lambda name: None)
    ds = build_devset(tmp_path, only={"cat", "grandmother"})
    assert [e.key for e in ds.entries.values()] == ["cat"]
    assert "grandmother: espeak-ng is not installed" in capsys.readouterr().err


def test_missing_opencv_photos_are_skipped_with_their_queries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(devset, "OPENCV_DATA", tmp_path / "no-opencv-doc")
    ds = build_devset(tmp_path / "set", only={"cat", "butterfly", "animals"})
    assert [e.key for e in ds.entries.values()] == ["cat"]
    assert "opencv-doc" in capsys.readouterr().err
    texts = {q.text for q in ds.queries}
    assert "a cat" in texts and "a black and white butterfly on a leaf" not in texts
