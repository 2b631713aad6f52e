"""The PyAV adapter, and the only module that imports ``av``: probe, decode frames and audio,
read subtitle streams, and write small videos (sample footage and test cases)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np

from core.errors import BadInput

AUDIO_RATE = 16_000  # what Whisper expects
TEXT_SUBTITLE_CODECS = {"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"}


@dataclass(frozen=True)
class MediaInfo:
    container: str
    duration: float
    fps: float | None
    width: int
    height: int
    video_codec: str
    audio_codec: str | None
    has_audio: bool
    subtitle_streams: int


@dataclass(frozen=True)
class SampledFrame:
    """One frame taken at the analysis rate, in the two sizes the pipeline needs."""

    t: float
    model_rgb: np.ndarray  # (side, side, 3) uint8, squashed to the frame encoder's input size
    thumb_rgb: np.ndarray  # (h, thumb_width, 3) uint8, aspect kept


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def _open(path: Path, max_pixels: int | None = None) -> av.container.InputContainer:
    # max_pixels reaches the decoders FFmpeg opens while it reads the header, so a picture
    # size past the limit is refused before a frame of that size is allocated.
    options = {"max_pixels": str(max_pixels)} if max_pixels else None
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore", options=options)
    except av.error.InvalidDataError:
        raise BadInput(path, "not a media file, or a truncated or corrupt container") from None
    except av.error.EOFError:
        raise BadInput(path, "container ends before its header does (truncated or empty)") from None
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise BadInput(path, f"cannot be opened as media: {exc}") from None


def _main_video_stream(
    container: av.container.InputContainer, path: Path
) -> av.video.stream.VideoStream:
    streams = [
        s
        for s in container.streams.video
        # Cover art in music files is a one-picture "video" stream; it is not footage.
        if not (s.disposition & av.stream.Disposition.attached_pic)
    ]
    if not streams:
        kinds: list[str] = sorted({s.type for s in container.streams}) or ["no streams"]
        raise BadInput(path, f"no video stream (contains: {', '.join(kinds)})")
    return streams[0]


def _limit_pictures(
    stream: av.video.stream.VideoStream, path: Path, max_pixels: int | None
) -> None:
    """BadInput when the declared picture size is over ``max_pixels``; and the decoder is told
    the limit, so a stream that grows its pictures later is refused instead of decoded."""
    if not max_pixels:
        return
    codec = stream.codec_context
    width, height = (codec.width, codec.height) if codec is not None else (0, 0)
    if width * height > max_pixels:
        raise BadInput(
            path,
            f"pictures of {width} x {height} ({width * height:,} pixels) are over the limit of "
            f"{max_pixels:,} pixels (VIDSEARCH_MAX_FRAME_PIXELS); nothing was decoded",
        )
    if codec is not None:
        codec.options = {**dict(codec.options or {}), "max_pixels": str(max_pixels)}


def _first_audio(container: av.container.InputContainer) -> Any:
    """The first audio stream FFmpeg can decode (one without a decoder is no sound to us)."""
    return next((s for s in container.streams.audio if s.codec_context is not None), None)


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def player_length(path: Path) -> float | None:
    """Where a player's timeline ends for this file, in seconds: its start offset plus its
    duration (an MPEG file's clock often starts after 0: cityCC0.mpg's 7.6 s end at 8.14 s, and
    a browser shows 0:08). None when the file cannot be read."""
    try:
        with av.open(str(path)) as container:
            if container.duration is None:
                return None
            start = container.start_time or 0
            return float(start + container.duration) / av.time_base
    except (av.error.FFmpegError, OSError):
        return None


def probe(path: Path, *, max_pixels: int | None = None) -> MediaInfo:
    """Open the file and read its streams; decode one frame to prove the video is decodable.
    ``max_pixels``: pictures larger than this are refused before anything is decoded."""
    with _open(path, max_pixels) as container:
        stream = _main_video_stream(container, path)
        codec = stream.codec_context
        if codec is None or not codec.name:
            raise BadInput(path, "video stream uses an unsupported codec (no decoder available)")
        _limit_pictures(stream, path, max_pixels)
        try:
            first = next(container.decode(stream), None)
        except av.error.FFmpegError as exc:
            raise BadInput(path, f"video stream cannot be decoded ({codec.name}): {exc}") from None
        if first is None:
            raise BadInput(path, "video stream has no decodable frames")
        duration = _duration(container, stream)
        if duration <= 0:
            raise BadInput(path, "video has zero duration")
        audio = _first_audio(container)
        rate = stream.average_rate or stream.guessed_rate
        return MediaInfo(
            container=container.format.name,
            duration=duration,
            fps=float(rate) if rate else None,
            width=first.width,
            height=first.height,
            video_codec=codec.name,
            audio_codec=audio.codec_context.name if audio is not None else None,
            has_audio=audio is not None,
            subtitle_streams=len(container.streams.subtitles),
        )


def sample_frames(
    path: Path,
    *,
    fps: float,
    model_side: int,
    thumb_width: int,
    expected_duration: float,
    max_pixels: int | None = None,
) -> Iterator[SampledFrame]:
    """Decode the video once, in order, yielding the first frame at or after each 1/fps step.

    Raises BadInput when the stream breaks off well before its declared end (a truncated file),
    or when its pictures are over ``max_pixels``.
    """
    step = 1.0 / fps
    thumb_height = None
    next_t = 0.0
    last_t = -1.0
    with _open(path, max_pixels) as container:
        stream = _main_video_stream(container, path)
        _limit_pictures(stream, path, max_pixels)
        stream.thread_type = "AUTO"  # frame + slice threading inside FFmpeg
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                t = float(frame.time)
                last_t = max(last_t, t)
                if t + 1e-6 < next_t:
                    continue
                if thumb_height is None:
                    thumb_height = max(
                        2, round(thumb_width * frame.height / max(1, frame.width) / 2) * 2
                    )
                model = frame.reformat(width=model_side, height=model_side, format="rgb24")
                thumb = frame.reformat(width=thumb_width, height=thumb_height, format="rgb24")
                yield SampledFrame(t=t, model_rgb=model.to_ndarray(), thumb_rgb=thumb.to_ndarray())
                next_t = (int(t / step + 1e-6) + 1) * step
        except av.error.FFmpegError as exc:
            raise BadInput(
                path, f"corrupt video data after {max(last_t, 0):.1f} s: {exc}"
            ) from None
    # A cut-off file often decodes cleanly up to where its bytes end.
    if expected_duration > 2.0 and last_t < 0.8 * expected_duration - 1.0:
        raise BadInput(
            path,
            f"truncated: video decodes only to {max(last_t, 0):.1f} s of {expected_duration:.1f} s",
        )


def decode_audio(path: Path) -> np.ndarray:
    """The first audio stream as 16 kHz mono float32 in [-1, 1]; empty if there is none."""
    chunks: list[np.ndarray] = []
    with _open(path) as container:
        stream = _first_audio(container)
        if stream is None:
            return np.zeros(0, dtype=np.float32)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError:
            pass  # keep what decoded: a damaged audio track should not cost the video its index
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def audio_chunks(path: Path, seconds: float) -> Iterator[tuple[float, np.ndarray]]:
    """The first audio stream as 16 kHz mono float32 windows of ``seconds`` each, with the
    time each starts at: memory stays bounded by the window, whatever the file's length."""
    window = max(1, int(seconds * AUDIO_RATE))
    pending: list[np.ndarray] = []
    held = 0
    offset = 0
    with _open(path) as container:
        stream = _first_audio(container)
        if stream is None:
            return
        resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)

        def drain(final: bool) -> Iterator[tuple[float, np.ndarray]]:
            nonlocal pending, held, offset
            while held >= window or (final and held):
                joined = np.concatenate(pending)
                take = joined[:window]
                rest = joined[window:]
                pending, held = ([rest] if len(rest) else []), len(rest)
                yield offset / AUDIO_RATE, take.astype(np.float32) / 32768.0
                offset += len(take)

        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pending.append(out.to_ndarray().reshape(-1))
                    held += pending[-1].shape[0]
                yield from drain(final=False)
            for out in resampler.resample(None):
                pending.append(out.to_ndarray().reshape(-1))
                held += pending[-1].shape[0]
        except av.error.FFmpegError:
            pass  # keep what decoded: a damaged audio track should not cost the video its index
    yield from drain(final=True)


_ASS_HEADER = (
    b"[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n[V4+ Styles]\n"
    b"Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
    b"Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
    b"Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
    b"Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    b"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)
_ASS_OVERRIDE = re.compile(r"\{[^}]*\}")


def _subtitle_text(raw: str) -> str:
    # ASS events as FFmpeg hands them: "ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text"
    # A packet may hold fewer fields than its format promises (a damaged or hostile file):
    # then it has no text.
    if raw.lstrip().startswith("Dialogue:"):
        fields = raw.split(",", 9)
        raw = fields[9] if len(fields) > 9 else ""
    elif raw.count(",") >= 8:
        raw = raw.split(",", 8)[8]
    raw = _ASS_OVERRIDE.sub("", raw).replace("\\N", " ").replace("\\n", " ")
    return " ".join(raw.split())


def subtitle_cues(path: Path) -> list[Cue]:
    """Text cues from subtitle streams inside the container (bitmap subtitles are skipped)."""
    cues: list[Cue] = []
    with _open(path) as container:
        streams = [
            s
            for s in container.streams.subtitles
            # A stream FFmpeg has no decoder for has no codec context at all.
            if s.codec_context is not None and s.codec_context.name in TEXT_SUBTITLE_CODECS
        ]
        if not streams:
            return cues
        stream = streams[0]
        try:
            for packet in container.demux(stream):
                if packet.pts is None or packet.time_base is None:
                    continue
                start = float(packet.pts * packet.time_base)
                end = start + float((packet.duration or 0) * packet.time_base)
                if end < 0:
                    continue  # wholly before the video starts (a damaged or hostile timestamp)
                start = max(0.0, start)
                for sub in stream.decode(packet):
                    for rect in getattr(sub, "rects", None) or [sub]:
                        raw = getattr(rect, "ass", None) or getattr(rect, "text", None) or b""
                        text = _subtitle_text(
                            raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
                        )
                        if text:
                            cues.append(Cue(start, max(end, start + 0.5), text))
        except av.error.FFmpegError:
            pass
    return cues


def write_video(
    path: Path,
    frames: Sequence[np.ndarray] | Iterator[np.ndarray],
    *,
    fps: int = 25,
    audio: np.ndarray | None = None,
    audio_rate: int = AUDIO_RATE,
    codec: str = "libx264",
    size: tuple[int, int] | None = None,
    faststart: bool = False,
    subtitles: Sequence[Cue] = (),
) -> Path:
    """Encode RGB frames (and optional mono float audio) into a video file.

    ``size`` creates the video stream up front (so a file with zero frames can be made);
    ``faststart`` puts the index first, as web-ready MP4s do; ``subtitles`` adds a SubRip
    stream (use a Matroska path).
    """
    options = {"movflags": "faststart"} if faststart else {}
    frame_iter = iter(frames)
    first = next(frame_iter, None)
    if first is not None and size is None:
        size = (first.shape[1] - first.shape[1] % 2, first.shape[0] - first.shape[0] % 2)
    with av.open(str(path), mode="w", options=options) as out:
        vstream: Any = None
        astream: Any = None
        sstream: Any = None
        if size is not None:
            vstream = out.add_stream(codec, rate=Fraction(fps))
            vstream.width, vstream.height = size
            vstream.pix_fmt = "yuv420p"
        if audio is not None:
            astream = out.add_stream("aac", rate=audio_rate, layout="mono")
        if subtitles:
            sstream = out.add_stream("subrip")
            # FFmpeg's SubRip encoder will not open without an ASS header to convert from.
            sstream.codec_context.subtitle_header = _ASS_HEADER
            sstream.codec_context.extradata = _ASS_HEADER
        out.start_encoding()  # every stream exists now; the header is written even with no frames
        if first is not None:
            for n, rgb in enumerate(itertools.chain([first], frame_iter)):
                crop = np.ascontiguousarray(rgb[: vstream.height, : vstream.width])
                frame: Any = av.VideoFrame.from_ndarray(crop, format="rgb24")
                frame.pts = n
                for packet in vstream.encode(frame):
                    out.mux(packet)
        if vstream is not None:
            for packet in vstream.encode(None):
                out.mux(packet)
        for cue in subtitles:
            packet = av.Packet(cue.text.encode("utf-8"))
            packet.stream = sstream
            packet.time_base = sstream.time_base
            packet.pts = packet.dts = int(cue.start / sstream.time_base)
            packet.duration = int((cue.end - cue.start) / sstream.time_base)
            out.mux(packet)
        if astream is not None and audio is not None and len(audio):
            pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
            aframe = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            aframe.sample_rate = audio_rate
            aframe.pts = 0
            for packet in astream.encode(aframe):
                out.mux(packet)
            for packet in astream.encode(None):
                out.mux(packet)
    return path


def transcode_for_browser(
    src: Path,
    dst: Path,
    *,
    max_height: int = 720,
    crf: int = 26,
    on_progress: Any = None,
) -> Path:
    """Re-encode a video that browsers cannot play (MPEG-2, Cinepak, MS-MPEG4, ...) as an H.264
    + AAC MP4 with its index first, keeping every frame's time so a moment's timestamp stays
    right. ``on_progress(fraction)`` follows the decode."""
    with (
        _open(src) as inp,
        av.open(str(dst), mode="w", format="mp4", options={"movflags": "faststart"}) as out,
    ):
        vin = _main_video_stream(inp, src)
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        height = min(max_height, vin.codec_context.height) // 2 * 2
        width = max(2, round(vin.codec_context.width * height / vin.codec_context.height / 2) * 2)
        vout: Any = out.add_stream("libx264", rate=rate)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.options = {"preset": "veryfast", "crf": str(crf)}
        vout.codec_context.time_base = Fraction(1, 1000)
        aout: Any = None
        resampler: Any = None
        if ain is not None:
            aout = out.add_stream("aac", rate=48_000, layout="stereo")
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48_000)
        duration = _duration(inp, vin) or 1.0
        last_pts = -1
        streams = [vin] + ([ain] if ain is not None else [])
        for packet in inp.demux(*streams):
            try:
                frames: list[Any] = list(packet.decode())
            except av.error.FFmpegError:
                continue  # a damaged packet: skip it, as a player would
            for frame in frames:
                if packet.stream.type == "video":
                    if frame.time is None:
                        continue
                    pts = round(float(frame.time) * 1000)
                    if pts <= last_pts:
                        continue
                    last_pts = pts
                    image: Any = frame.reformat(width=width, height=height, format="yuv420p")
                    image.pts, image.time_base = pts, Fraction(1, 1000)
                    out.mux(vout.encode(image))
                    if on_progress is not None:
                        on_progress(min(1.0, float(frame.time) / duration))
                else:
                    frame.pts = None
                    for chunk in resampler.resample(frame):
                        out.mux(aout.encode(chunk))
        out.mux(vout.encode(None))
        if aout is not None:
            for chunk in resampler.resample(None):
                out.mux(aout.encode(chunk))
            out.mux(aout.encode(None))
    return dst
