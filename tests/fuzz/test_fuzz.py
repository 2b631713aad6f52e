"""Hostile bytes, bounded in count and time, through the subtitle parsers (.srt, .vtt, the text
of container subtitle streams) and through probe, decode, subtitle streams and audio over
mutated real container files: nothing but BadInput may come out, and every value that does is
sane. The cases are derandomized, so CI never passes or fails by luck; ``VS_FUZZ_SCALE=10``
runs ten times as many, ``VS_FUZZ_RANDOM=1`` new ones each run, and bench/fuzz.py (atheris) explores for as long as you give it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import targets

SCALE = float(os.environ.get("VS_FUZZ_SCALE", "1"))


def _examples(n: int) -> int:
    return max(1, int(n * SCALE))


FUZZ = dict(
    deadline=None,
    database=None,
    # VS_FUZZ_RANDOM=1: new cases every run (exploring, by hand); CI runs the same ones each time.
    derandomize=os.environ.get("VS_FUZZ_RANDOM") != "1",
    suppress_health_check=list(HealthCheck),
)

# --- subtitle documents: fragments that make the parser take every path -------------------------
_stamp = st.builds(
    lambda h, m, s, ms, sep: f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}",
    st.integers(0, 120),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 9999),
    st.sampled_from([",", ".", ":", ""]),
) | st.builds(
    lambda m, s, ms: f"{m:02d}:{s:02d}.{ms}",
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99999),
)
_line = st.one_of(
    st.builds(
        lambda a, b, rest: f"{a} --> {b}{rest}",
        _stamp,
        _stamp,
        st.sampled_from(["", " align:start", " x", "-->"]),
    ),
    st.sampled_from(
        [
            "",
            "WEBVTT",
            "NOTE x",
            "1",
            "-->",
            " --> ",
            "<i>",
            "</b>",
            "{\\an8}",
            "\ufeff",
            "\r",
            "\x00",
        ]
    ),
    st.text(max_size=40),
)
_document = st.lists(_line, max_size=30).map(
    lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")
)


@settings(max_examples=_examples(1500), **FUZZ)
@given(st.one_of(_document, st.binary(max_size=2000), st.sampled_from(targets.SRT_SEEDS)))
def test_subtitle_files_of_any_bytes_give_sane_cues_or_none(data):
    cues = targets.subtitles(data)
    assert all(c.text.strip() and 0 <= c.start <= c.end for c in cues), cues


@settings(max_examples=_examples(800), **FUZZ)
@given(st.one_of(st.text(max_size=300).map(str.encode), st.binary(max_size=300)))
def test_subtitle_packets_of_any_text_give_one_line(data):
    line = targets.subtitle_text(data)
    assert "\n" not in line and "\r" not in line


# --- containers: real files, mutated ---------------------------------------------------------
@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    folder: Path = tmp_path_factory.mktemp("fuzz-seeds")
    return {kind: path.read_bytes() for kind, path in targets.seed_files(folder).items()}


@st.composite
def mutated(draw, seeds: dict[str, bytes]) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(sorted(seeds)))
    data = bytearray(seeds[kind])
    for _ in range(draw(st.integers(0, 12))):
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["byte", "flip", "zero", "ff", "dup", "cut", "insert"]))
        if how == "byte":
            data[at] = draw(st.integers(0, 255))
        elif how == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how in ("zero", "ff"):
            n = draw(st.integers(1, 16))
            data[at : at + n] = (b"\0" if how == "zero" else b"\xff") * n
        elif how == "dup":
            n = draw(st.integers(1, 512))
            data[at:at] = data[at : at + n]
        elif how == "cut":
            del data[at : at + draw(st.integers(1, 512))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        if not data:
            data = bytearray(b"\0")
    if draw(st.booleans()) and len(data) > 8:
        data = data[: draw(st.integers(1, len(data)))]
    return kind, bytes(data)


def test_mutated_containers_are_indexed_or_refused_with_a_reason(seeds):
    @settings(max_examples=_examples(300), **FUZZ)
    @given(mutated(seeds))
    def run(case):
        kind, data = case
        outcomes = targets.container(data, suffix=f".{kind}")
        assert targets.explained(outcomes), outcomes

    run()


def test_the_seeds_themselves_decode(seeds, tmp_path):
    from indexer import media

    for kind, data in seeds.items():
        path = tmp_path / f"seed.{kind}"
        path.write_bytes(data)
        info = media.probe(path)
        assert info.width == 64 and info.duration > 0, kind
        targets.container(data, suffix=f".{kind}")
