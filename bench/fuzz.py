"""Coverage-guided fuzzing (atheris, libFuzzer) of the targets in tests/fuzz/targets.py, for as
long as you give it: the subtitle parsers, and probe + decode + subtitle streams + audio over
mutated real container files (the seeds tests/fuzz makes).

    python bench/fuzz.py subtitles --seconds 300
    python bench/fuzz.py container --seconds 600 [--kind mkv]

Prints runs, distinct coverage features and what it found; a crashing input is written to
``crash-*`` in the working folder (make it a test in tests/fuzz/test_regressions.py). Where
atheris is not installed (`pip install atheris`), a plain random mutator stands in.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

try:
    import atheris
except ImportError:  # a plain random mutator stands in
    atheris = None

if atheris is not None:
    # Our parsing code is instrumented for coverage; FFmpeg itself is C and is not (its paths
    # are reached through the Python ones, not steered by coverage).
    with atheris.instrument_imports(include=["indexer", "tests.fuzz"]):
        from tests.fuzz import targets
else:
    from tests.fuzz import targets


def _seeds(kind: str | None) -> list[tuple[str, bytes]]:
    folder = Path(tempfile.mkdtemp(prefix="vs-fuzz-seeds-"))
    made = targets.seed_files(folder)
    return [(k, p.read_bytes()) for k, p in made.items() if kind in (None, k)]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("target", choices=["subtitles", "container"])
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--kind", choices=["mp4", "mkv", "avi", "mpg", "webm"], default=None)
    args, rest = p.parse_known_args()
    seeds = _seeds(args.kind) if args.target == "container" else []
    suffix = {k: f".{k}" for k, _ in seeds}

    def one(data: bytes) -> None:
        if args.target == "subtitles":
            targets.subtitles(data)
            targets.subtitle_text(data[:400])
        else:
            # The first byte picks the container kind the file claims to be.
            kind = seeds[data[0] % len(seeds)][0] if data else seeds[0][0]
            targets.container(data[1:], suffix=suffix[kind])

    corpus = Path(tempfile.mkdtemp(prefix=f"vs-fuzz-{args.target}-"))
    if args.target == "subtitles":
        for n, seed in enumerate(targets.SRT_SEEDS):
            (corpus / f"seed{n}").write_bytes(seed)
    else:
        for n, (kind, data) in enumerate(seeds):
            (corpus / f"seed-{kind}").write_bytes(bytes([n]) + data)
    started = time.monotonic()
    if atheris is not None:
        print(f"atheris {args.target}: {args.seconds:.0f} s, corpus {corpus}", file=sys.stderr)
        atheris.Setup(
            [sys.argv[0], str(corpus), f"-max_total_time={int(args.seconds)}", "-rss_limit_mb=3000"]
            + rest,
            one,
        )
        atheris.Fuzz()  # exits the process when the time is up (or on a crash)
        return 0
    rng = random.Random(0)
    pool = [p.read_bytes() for p in corpus.iterdir()]
    runs = 0
    while time.monotonic() - started < args.seconds:
        data = bytearray(rng.choice(pool))
        for _ in range(rng.randint(1, 12)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        runs += 1
        try:
            one(bytes(data))
        except Exception:
            crash = Path(f"crash-{args.target}-{runs}")
            crash.write_bytes(bytes(data))
            print(f"crash after {runs} runs; input in {crash}", file=sys.stderr)
            raise
    print(f"{args.target}: {runs} runs in {time.monotonic() - started:.0f} s, no crash")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
