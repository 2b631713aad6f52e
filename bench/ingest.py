"""Ingest benchmark: x real time end to end and per stage on the package-shipped footage, and the
ratio of pipeline time to the sum of its unavoidable parts (decoding the sampled frames + the
model forward passes, the on-screen text and people detectors among them), with those two stages
on and off, all measured in one run because this machine is noisy.

    .venv/bin/python bench/ingest.py [--samples DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.arrays import unpack_f16_matrix  # noqa: E402
from core.db import session_scope  # noqa: E402
from core.models import Segment, Video  # noqa: E402
from core.settings import Settings  # noqa: E402
from indexer import media  # noqa: E402
from indexer.detect import SegmentDetectors  # noqa: E402
from indexer.pipeline import load_models, run_ingest_job  # noqa: E402
from indexer.samples import collect_samples  # noqa: E402
from services.ingest import create_jobs  # noqa: E402
from videobert.frames import INPUT_SIDE  # noqa: E402


def unavoidable(files: list[Path], settings: Settings, models) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Each necessary part on its own: decode the sampled frames, run every model pass once."""
    parts = {
        "decode sampled frames": 0.0,
        "frame encoder": 0.0,
        "speech model": 0.0,
        "text encoder": 0.0,
        "video encoder": 0.0,
    }
    detect = SegmentDetectors.from_settings(settings)
    if detect.enabled:
        parts["on-screen text + people"] = 0.0
    with session_scope(settings) as s:
        clips = {v.source_path: sum(x.n_clips for x in v.segments) for v in s.query(Video)}
        spans = {v.source_path: [(x.start, x.n_clips) for x in v.segments] for v in s.query(Video)}
        captions = [x.caption for x in s.query(Segment)]
        clip_sets = [unpack_f16_matrix(x.clip_features) for x in s.query(Segment)]
    for f in files:
        info = media.probe(f)
        t = time.perf_counter()
        sampled = list(
            media.sample_frames(
                f,
                fps=settings.analysis_fps,
                model_side=INPUT_SIDE,
                thumb_width=settings.thumbnail_width,
                expected_duration=info.duration,
            )
        )
        frames = [fr.model_rgb for fr in sampled]
        parts["decode sampled frames"] += time.perf_counter() - t
        if detect.enabled and sampled:
            # The detectors on what the pipeline gives them: each segment's clip-middle frames.
            times = np.array([fr.t for fr in sampled])
            for start, n_clips in spans.get(str(f), []):
                middles = [start + settings.clip_seconds * (k + 0.5) for k in range(n_clips)]
                picks = [sampled[int(np.abs(times - m).argmin())].thumb_rgb for m in middles]
                t = time.perf_counter()
                detect(picks)
                parts["on-screen text + people"] += time.perf_counter() - t
        n = clips.get(str(f), 0)
        batch = np.stack(
            frames[:n] if len(frames) >= n else (frames * (n // max(1, len(frames)) + 1))[:n]
        )
        t = time.perf_counter()
        models.embedder.encode_frames(batch)
        parts["frame encoder"] += time.perf_counter() - t
        if info.has_audio:
            audio = media.decode_audio(f)
            t = time.perf_counter()
            models.recognizer.transcribe(audio)
            parts["speech model"] += time.perf_counter() - t
    t = time.perf_counter()
    models.embedder.embed_text(captions)
    parts["text encoder"] += time.perf_counter() - t
    t = time.perf_counter()
    models.embedder.embed_video(clip_sets)  # the segments' video vectors (VideoBERT's video side)
    parts["video encoder"] += time.perf_counter() - t
    return parts


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--samples", type=Path, default=None, help="folder of videos (default: shipped footage)"
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.samples or collect_samples(Path(tmp) / "samples") and Path(tmp) / "samples"
        files = sorted(p for p in Path(folder).iterdir() if p.is_file())
        durations = {f: media.probe(f).duration for f in files}
        total_video = sum(durations.values())
        print(f"footage: {len(files)} files, {total_video:.1f} s of video")
        # Off first, so the detectors' one-time load is counted where they are on.
        for on in (False, True):
            settings = Settings(home=Path(tmp) / f"home-{on}", screen_text=on, people=on)
            print(f"\n=== on-screen text and people {'ON' if on else 'OFF'} ===")
            run(files, durations, total_video, settings)


def run(
    files: list[Path], durations: dict[Path, float], total_video: float, settings: Settings
) -> None:
    t0 = time.perf_counter()
    models = load_models(settings)
    models.embedder.embed_text(["warm up"])
    models.embedder.embed_video([np.zeros((1, 1280), np.float32)])  # warm the video side too
    models.recognizer.load()
    if settings.screen_text or settings.people:
        SegmentDetectors.from_settings(settings)([np.zeros((240, 320, 3), np.uint8)])
    load_s = time.perf_counter() - t0

    timings: dict[str, float] = {}
    job_ids = create_jobs(files, settings)
    t0 = time.perf_counter()
    per_file = []
    for job_id, f in zip(job_ids, files, strict=True):
        t = time.perf_counter()
        status = run_ingest_job(job_id, settings=settings, models=models, timings=timings)
        per_file.append((f.name, durations[f], time.perf_counter() - t, status))
    pipeline_s = time.perf_counter() - t0
    parts = unavoidable(files, settings, models)

    print(f"model load (once per process): {load_s:.2f} s")
    print(f"{'file':28} {'video s':>8} {'wall s':>8} {'x real time':>12}  status")
    for name, dur, wall, status in per_file:
        print(f"{name:28} {dur:8.1f} {wall:8.2f} {dur / wall:12.1f}  {status}")
    print(
        f"\nend to end (warm models): {pipeline_s:.2f} s -> {total_video / pipeline_s:.1f}x real time"
    )
    print(
        f"end to end incl. model load: {pipeline_s + load_s:.2f} s -> "
        f"{total_video / (pipeline_s + load_s):.1f}x real time"
    )
    print("\nper stage (wall s, x real time):")
    for stage, secs in timings.items():
        print(f"  {stage:26} {secs:7.2f} s {total_video / max(secs, 1e-9):9.1f}x")
    print("\nunavoidable parts, measured alone:")
    for part, secs in parts.items():
        print(f"  {part:26} {secs:7.2f} s")
    floor = sum(parts.values())
    print(f"  {'sum':26} {floor:7.2f} s")
    print(f"\nratio pipeline / unavoidable: {pipeline_s / floor:.2f}  (target <= 1.2)")
    print(f"x real time end to end:       {total_video / pipeline_s:.1f}  (target >= 15)")


if __name__ == "__main__":
    main()
