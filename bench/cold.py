"""Cold-start benchmark: wall time and peak memory of each CLI command run as a new process (what
a person scripting the CLI waits for), beside the same operation in a warm process, on the demo
library and on a library of 10k segments, in one run.

    .venv/bin/python bench/cold.py [--demo-home DIR] [--repeat N] [--segments 10000]
                                   [--big-home DIR] [--skip-demo]

The demo library is built on first use (`vidsearch samples` + `vidsearch ingest`, a few
minutes) and reused; the 10k-segment library is written straight into a catalog (random
vectors, real captions) next to it. From 100k segments (``--segments 1000000``) the library is
written in bulk with vectors around topics, and its first search builds the large index (base
and graphs: minutes); keep it with ``--big-home`` to measure again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
COMMANDS = [
    ("--help", ["--help"]),
    ("videos", ["videos"]),
    ("jobs", ["jobs"]),
    ("summary", ["summary", "{video}"]),
    ("doctor", ["doctor"]),
    ("search", ["search", "a city at night"]),
    ("related", ["related", "{video}"]),
]
WORDS = [
    "red",
    "car",
    "boat",
    "espresso",
    "city",
    "night",
    "tree",
    "people",
    "walking",
    "cat",
    "dog",
    "street",
    "rocket",
]


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDSEARCH_")}
    return env | {"VIDSEARCH_HOME": str(home), "PYTHONPATH": str(REPO)}


# Runs the CLI and reports the process's own peak memory (VmHWM: ru_maxrss would include the
# parent's pages at fork time, which survive the exec).
RUNNER = (
    "import atexit, sys\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM'):\n"
    "            sys.stderr.write('PEAK_KB ' + line.split()[1] + '\\n')\n"
    "atexit.register(peak)\n"
    "from ui.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def cold(home: Path, argv: list[str]) -> tuple[float, float]:
    """(seconds, peak MB) of one `vidsearch` process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *argv],
        env=env_for(home),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(
            f"vidsearch {' '.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}"
        )
    peak = [ln for ln in done.stderr.splitlines() if ln.startswith("PEAK_KB ")]
    return seconds, (int(peak[-1].split()[1]) / 1024 if peak else float("nan"))


def warm_times(home: Path, video: str, repeat: int) -> dict[str, float]:
    """The same operations in one process that has everything loaded already."""
    os.environ["VIDSEARCH_HOME"] = str(home)
    from core.settings import get_settings
    from services.library import page_jobs, page_videos
    from services.search import build_search_service
    from services.summaries import summary_of

    get_settings.cache_clear()
    settings = get_settings()
    service = build_search_service(settings)
    operations = {
        "videos": lambda: page_videos(settings),
        "jobs": lambda: page_jobs(settings),
        "summary": lambda: summary_of(settings, video),
        "search": lambda: service.search("a city at night"),
        "related": lambda: service.more_like_this(video),
    }
    out = {}
    for name, op in operations.items():
        op()  # warm
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            op()
            runs.append(time.perf_counter() - t)
        out[name] = statistics.median(runs)
    get_settings.cache_clear()
    return out


def demo_library(home: Path) -> None:
    env = env_for(home)
    if (home / "catalog.db").is_file():
        return
    print(f"building the demo library in {home} (once)...", flush=True)
    subprocess.run([sys.executable, "-m", "ui.cli", "samples"], env=env, cwd=REPO, check=True)
    subprocess.run(
        [sys.executable, "-m", "ui.cli", "ingest", str(home / "samples"), "--wait"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )


def big_library(home: Path, segments: int) -> None:
    """``segments`` segments of random vectors in 10-segment videos, plus the query encoder;
    from LARGE_FROM segments, vectors around topics written in bulk (large_library)."""
    if segments >= LARGE_FROM:
        large_library(home, segments)
        return
    import numpy as np

    from core.arrays import pack_f16_matrix, pack_f32
    from core.db import session_scope
    from core.models import Segment, Video, VideoStatus, utcnow
    from core.settings import Settings
    from model_lifecycle.active import prepare_query_encoder

    settings = Settings(home=home, summaries_at_index=False)
    with session_scope(settings) as s:
        if s.query(Video).count():
            return
    print(f"writing a {segments}-segment library in {home} (once)...", flush=True)
    prepare_query_encoder(settings)
    rng = np.random.default_rng(0)
    per_video = 10
    with session_scope(settings) as s:
        for v in range(segments // per_video):
            vid = f"{v:016x}"
            s.add(
                Video(
                    id=vid,
                    content_hash=vid * 4,
                    source_path=f"/library/video_{v}.mp4",
                    title=f"video {v}",
                    duration=15.0 * per_video,
                    size_bytes=1,
                    status=VideoStatus.READY,
                    revision=1,
                    indexed_at=utcnow(),
                )
            )
            for i in range(per_video):
                caption = " ".join(rng.choice(WORDS, size=8))
                s.add(
                    Segment(
                        video_id=vid,
                        index=i,
                        shot_index=i,
                        start=15.0 * i,
                        end=15.0 * (i + 1),
                        transcript=caption,
                        tags="",
                        caption=caption,
                        n_clips=1,
                        video_vector=pack_f32(rng.normal(size=384)),
                        text_vector=pack_f32(rng.normal(size=384)),
                        clip_features=pack_f16_matrix(np.abs(rng.normal(size=(1, 8)))),
                    )
                )


LARGE_FROM = 100_000


def large_library(home: Path, segments: int) -> None:
    """A library past the large index's threshold, written straight into the catalog in bulk:
    vectors clustered around topics as real ones are (bench/large_index.py), 12-word captions
    from a 5,000-word vocabulary. The first search builds the index (and its base) as a user's
    first search after such an ingest would."""
    import numpy as np
    from sqlalchemy import insert

    from bench.large_index import SEGMENTS_PER_VIDEO, topic_centres
    from core.arrays import pack_f16_matrix, pack_f32
    from core.db import session_scope
    from core.models import Segment, Video, VideoStatus, utcnow
    from core.settings import Settings
    from model_lifecycle.active import load_embedder, prepare_query_encoder

    settings = Settings(home=home, summaries_at_index=False)
    with session_scope(settings) as s:
        if s.query(Video).count():
            return
    print(f"writing a {segments}-segment library in {home} (once)...", flush=True)
    prepare_query_encoder(settings)
    centres = topic_centres(load_embedder(settings))
    rng = np.random.default_rng(0)
    dim = centres.shape[1]
    spread = np.sqrt((1 / 0.75**2 - 1) / dim)
    vocabulary = WORDS + [f"w{i}" for i in range(5000)]
    features = pack_f16_matrix(np.ones((1, 8)))
    videos = segments // SEGMENTS_PER_VIDEO
    for lo in range(0, videos, 2000):
        hi = min(videos, lo + 2000)
        video_rows, segment_rows = [], []
        for v in range(lo, hi):
            vid = f"{v:016x}"
            video_rows.append(
                {
                    "id": vid,
                    "content_hash": vid * 4,
                    "source_path": f"/library/video_{v}.mp4",
                    "title": f"video {v}",
                    "duration": 15.0 * SEGMENTS_PER_VIDEO,
                    "size_bytes": 1,
                    "status": VideoStatus.READY,
                    "revision": 1,
                    "indexed_at": utcnow(),
                }
            )
            topic = centres[rng.integers(0, len(centres))]
            noisy = topic + rng.normal(scale=spread, size=(2 * SEGMENTS_PER_VIDEO, dim))
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            for i in range(SEGMENTS_PER_VIDEO):
                caption = " ".join(rng.choice(vocabulary, size=12))
                segment_rows.append(
                    {
                        "video_id": vid,
                        "index": i,
                        "shot_index": i,
                        "start": 15.0 * i,
                        "end": 15.0 * (i + 1),
                        "transcript": caption,
                        "tags": "",
                        "caption": caption,
                        "n_clips": 1,
                        "video_vector": pack_f32(noisy[2 * i]),
                        "text_vector": pack_f32(noisy[2 * i + 1]),
                        "clip_features": features,
                    }
                )
        with session_scope(settings) as s:
            s.execute(insert(Video), video_rows)
            s.execute(insert(Segment), segment_rows)
        print(f"  {hi * SEGMENTS_PER_VIDEO} segments", flush=True)


def first_video(home: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "ui.cli", "videos", "--json"],
        env=env_for(home),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return str(json.loads(out.stdout)["videos"][0]["video_id"])


def report(label: str, home: Path, repeat: int) -> None:
    video = first_video(home)
    # The first search after an ingest writes the index snapshot: say what it costs, once.
    first = cold(home, ["search", "a city at night"])
    print(f"\n{label}: first search after the ingest (writes the snapshot) {first[0]:.2f} s")
    warm = warm_times(home, video, repeat)
    print(f"{'command':10} {'cold p50 s':>10} {'cold max s':>10} {'peak MB':>8} {'warm ms':>8}")
    for name, argv in COMMANDS:
        argv = [a.replace("{video}", video) for a in argv]
        runs = [cold(home, argv) for _ in range(repeat)]
        seconds = [r[0] for r in runs]
        warm_ms = f"{warm[name] * 1000:8.1f}" if name in warm else f"{'-':>8}"
        print(
            f"{name:10} {statistics.median(seconds):10.2f} {max(seconds):10.2f} "
            f"{max(r[1] for r in runs):8.0f} {warm_ms}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--demo-home", type=Path, default=Path.home() / ".cache" / "vidsearch-cold-demo"
    )
    ap.add_argument("--big-home", type=Path, default=None)
    ap.add_argument("--segments", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-demo", action="store_true")
    args = ap.parse_args()
    if not args.skip_demo:
        demo_library(args.demo_home)
        report("demo library", args.demo_home, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        big = args.big_home or Path(tmp) / "big"
        big_library(big, args.segments)
        report(f"{args.segments} segments", big, args.repeat)


if __name__ == "__main__":
    main()
