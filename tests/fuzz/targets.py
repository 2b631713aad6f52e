"""Fuzz targets: hostile bytes into the subtitle parsers and the media adapter, with what must
hold whatever the bytes are. The Hypothesis tests (CI, bounded) and bench/fuzz.py (atheris,
coverage-guided, as long as you like) drive the same functions; an input that breaks one
becomes a regression test in tests/fuzz/test_regressions.py."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from core.errors import BadInput
from indexer import media
from indexer.transcribe import parse_subtitles

MAX_FRAMES = 40  # frames decoded per input: enough to reach a stream's second GOP
MAX_PIXELS = 4_000_000  # pictures decoded per frame at most (the seeds are tiny)
SUFFIXES = (".mp4", ".mkv", ".avi", ".mpg", ".webm", ".mov")


def _check_cues(cues: list[media.Cue]) -> None:
    for cue in cues:
        assert isinstance(cue.text, str) and cue.text.strip(), cue
        assert math.isfinite(cue.start) and math.isfinite(cue.end), cue
        assert 0 <= cue.start <= cue.end, cue


def subtitles(data: bytes) -> list[media.Cue]:
    """An .srt or .vtt file of any bytes (read as the pipeline reads sidecars): cues with text,
    finite times, start <= end; never an exception. Returns the cues (checked here, so that
    bench/fuzz.py's atheris run fails on a bad one too)."""
    text = data.decode("utf-8", errors="replace")
    cues = parse_subtitles(text)
    _check_cues(cues)
    return cues


def subtitle_text(data: bytes) -> str:
    """A subtitle packet's text as FFmpeg hands it (ASS event lines): one line, never an error."""
    out = media._subtitle_text(data.decode("utf-8", errors="replace"))
    assert isinstance(out, str) and "\n" not in out
    return out


def container(data: bytes, suffix: str = ".mp4") -> list[str]:
    """A media file of any bytes through everything ingest does with it: probe, the decode of
    the first frames, subtitle streams, the first audio window. Either each works (with sane
    values) or BadInput says why; any other exception, a hang or a crash is a bug. Returns what
    became of it: ["refused: <reason>"] from probe, else one entry per step, "ok" or
    "refused: <reason>"."""
    with tempfile.TemporaryDirectory(prefix="vs-fuzz-") as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        try:
            info = media.probe(path, max_pixels=MAX_PIXELS)
        except BadInput as exc:
            return [f"refused: {exc}"]
        assert info.duration > 0 and math.isfinite(info.duration), info
        assert 0 < info.width * info.height <= MAX_PIXELS, info
        outcomes = []
        for step in (_frames(path, info), _subtitles(path), _audio(path)):
            try:
                for _ in step:
                    pass
                outcomes.append("ok")
            except BadInput as exc:
                outcomes.append(f"refused: {exc}")
        return outcomes


def explained(outcomes: list[str]) -> bool:
    """Every step either worked or was refused with a reason that says something."""
    return bool(outcomes) and all(
        o == "ok" or (o.startswith("refused: ") and len(o) > len("refused: ") + 3) for o in outcomes
    )


def _frames(path: Path, info: media.MediaInfo) -> Iterator[None]:
    frames = media.sample_frames(
        path,
        fps=4.0,
        model_side=32,
        thumb_width=32,
        expected_duration=info.duration,
        max_pixels=MAX_PIXELS,
    )
    for frame in islice(frames, MAX_FRAMES):
        assert frame.model_rgb.shape == (32, 32, 3) and frame.model_rgb.dtype == np.uint8
        assert frame.thumb_rgb.shape[1] == 32 and math.isfinite(frame.t)
        yield None


def _subtitles(path: Path) -> Iterator[None]:
    _check_cues(media.subtitle_cues(path))
    yield None


def _audio(path: Path) -> Iterator[None]:
    for _start, chunk in islice(media.audio_chunks(path, 30.0), 1):
        assert chunk.dtype == np.float32 and np.all(np.abs(chunk) <= 1.0)
        yield None


# --- seeds: small real files of each kind the pipeline meets ----------------------------------


def seed_files(folder: Path) -> dict[str, Path]:
    """A handful of small, valid files: H.264 + AAC in MP4, H.264 + SubRip in Matroska, MPEG-4
    Part 2 in AVI, MPEG-2 in MPEG-PS, VP8 in WebM; each one or two seconds, 64x48."""
    from tests.conftest import colour_shots

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    sound = (0.1 * rng.standard_normal(16_000)).astype(np.float32)
    shots = [0.6, 0.6]
    made = {
        "mp4": media.write_video(
            folder / "seed.mp4", colour_shots(shots, size=(64, 48), fps=10), fps=10, audio=sound
        ),
        "mkv": media.write_video(
            folder / "seed.mkv",
            colour_shots(shots, size=(64, 48), fps=10),
            fps=10,
            subtitles=[media.Cue(0.1, 0.5, "hello there"), media.Cue(0.6, 1.0, "a second line")],
        ),
        "avi": media.write_video(
            folder / "seed.avi", colour_shots(shots, size=(64, 48), fps=10), fps=10, codec="mpeg4"
        ),
        "mpg": media.write_video(
            folder / "seed.mpg",
            colour_shots(shots, size=(64, 48), fps=25),
            fps=25,
            codec="mpeg2video",
        ),
        "webm": media.write_video(
            folder / "seed.webm", colour_shots(shots, size=(64, 48), fps=10), fps=10, codec="libvpx"
        ),
    }
    return made


SRT_SEEDS = [
    b"1\n00:00:01,000 --> 00:00:02,500\nHello <i>world</i>\n\n2\n00:00:03,000 --> 00:00:04,000\n{\\an8}Second\n",
    b"WEBVTT\n\n00:01.000 --> 00:02.000 align:start\nA cue\n\nNOTE a note\n\n01:00:00.500 --> 01:00:01.000\n<v Bob>Late</v>\n",
    b"\xef\xbb\xbf1\r\n00:00:00,000 --> 00:00:00,001\r\n\xc3\xa9t\xc3\xa9\r\n",
]
