"""Load benchmark: clients calling the HTTP API at once while an ingest runs on the same server.

    .venv/bin/python bench/load.py                      # 8 clients for 60 s: the acceptance run
    .venv/bin/python bench/load.py --clients 2 --seconds 5 --quick   # the CI-sized run

What it does, all on loopback and bounded in time and count:
1. a library on the embedded default (SQLite, in-process vectors) is seeded with generated clips
   by `vidsearch ingest --wait`, and one admin and one user per client get API tokens;
2. `vidsearch api` starts with tokens required (each client is its own user, as on a real
   server) and a per-user rate limit of ``--rate-limit`` requests a minute: by default high
   enough that the closed-loop clients, which never pause, measure the server and not the
   limiter (the limiter still runs on every request; tests/api cover what it refuses);
3. the admin asks the server to ingest the shipped sample footage and more generated clips
   (real decoding, transcription and embedding in the server process, beside the requests);
4. each client, in a closed loop for ``--seconds``, searches (70 %), lists videos (10 %), asks for
   its recommendations (10 %) or reads a summary (10 %);
5. it prints requests, errors and p50/p95/p99 per endpoint, throughput, how much of the window an
   ingest job was running, how many files the ingest finished meanwhile, and the API's peak RSS.

An error is anything but a 2xx answer within ``--request-timeout`` (429 from the rate limit
included). It exits 1 when there was any error or when no ingest job ran during the window (then
the run measured nothing it was meant to). Needs the shipped models, like `make demo`.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUERIES = [
    "a cup of coffee",
    "scene reel",
    "people walking",
    "a tree in the wind",
    "city at night",
    "someone talking",
    "colourful shapes",
    "a cartoon rabbit",
    "water",
    "a car on a road",
]
MIX = [("search", 0.7), ("videos", 0.1), ("recommendations", 0.1), ("summary", 0.1)]


@dataclass
class Outcome:
    endpoint: str
    seconds: float
    status: int  # 0: no answer (timeout, refused connection)
    at: float  # monotonic time the request finished


@dataclass
class Window:
    """What the clients saw, and what the ingest did meanwhile."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    busy_polls: int = 0  # polls of /jobs that found a job running
    polls: int = 0
    finished_during: int = 0
    jobs_total: int = 0
    jobs_left_at_end: int = 0
    api_peak_rss_mb: float = 0.0
    errors_seen: list[str] = field(default_factory=list)


def _pick(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for name, share in MIX:
        acc += share
        if x < acc:
            return name
    return MIX[-1][0]


def _client(
    base: str,
    user: dict[str, Any],
    video_ids: list[str],
    stop_at: float,
    max_requests: int,
    timeout: float,
    seed: int,
    out: list[Outcome],
    lock: threading.Lock,
    errors: list[str],
) -> None:
    import httpx

    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {user['token']}"}
    mine: list[Outcome] = []
    with httpx.Client(base_url=base, headers=headers, timeout=timeout) as http:
        for _ in range(max_requests):
            if time.monotonic() >= stop_at:
                break
            kind = _pick(rng)
            if kind == "search":
                url, params = "/search", {"q": rng.choice(QUERIES), "limit": 10}
            elif kind == "videos":
                url, params = "/videos", {"limit": 20, "offset": rng.randrange(0, 10)}
            elif kind == "recommendations":
                url, params = f"/users/{user['user_id']}/recommendations", {"limit": 10}
            else:
                url, params = f"/videos/{rng.choice(video_ids)}/summary", {}
            started = time.monotonic()
            try:
                status = http.get(url, params=params).status_code
            except httpx.HTTPError as exc:
                status = 0
                if len(errors) < 20:
                    errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            now = time.monotonic()
            if not 200 <= status < 300 and status and len(errors) < 20:
                errors.append(f"{kind}: HTTP {status}")
            mine.append(Outcome(kind, now - started, status, now))
    with lock:
        out.extend(mine)


def _rss_mb(pid: int) -> float:
    """Peak resident memory of one process so far (its VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_load(
    work: Path,
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    request_timeout: float,
    seed_clips: int,
    extra_clips: int,
    samples: bool,
    rate_limit: int,
    seed: int = 0,
) -> Window:
    """Set up the library and the server in ``work``, run the window, stop the server."""
    import httpx

    from core.settings import Settings
    from services.users import add_user
    from tests.faults.harness import make_clips
    from tests.processes import ApiProcess, clean_env, run_cli

    home = work / "home"
    settings = Settings(home=home)
    env = clean_env(
        VIDSEARCH_HOME=str(home),
        VIDSEARCH_AUTH="required",
        VIDSEARCH_RATE_LIMIT_PER_MINUTE=str(rate_limit),
    )
    seeded = make_clips(settings.videos_dir / "seed", seed_clips, seed=seed + 1)
    print(f"seeding the library with {len(seeded.files)} files ...", flush=True)
    done = run_cli(env, "ingest", str(seeded.folder), "--wait", "--json")
    # The generated folder holds one junk file on purpose, so the exit code is 1; what matters is
    # that every real clip was indexed.
    outcomes = Counter(json.loads(line)["outcome"] for line in done.stdout.splitlines() if line)
    if outcomes["succeeded"] < len(seeded.unique):
        raise SystemExit(f"seeding failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    to_ingest = [make_clips(settings.videos_dir / "more", extra_clips, seed=seed + 2).folder]
    if samples:
        from indexer.samples import collect_samples

        collect_samples(settings.videos_dir / "samples")
        to_ingest.append(settings.videos_dir / "samples")
    admin = add_user(settings, "load-admin", admin=True)
    users = [add_user(settings, f"load-viewer-{i}") for i in range(clients)]
    admin_headers = {"Authorization": f"Bearer {admin['token']}"}

    api = ApiProcess(env, work / "api.log")
    print("starting the API ...", flush=True)
    api.start()
    window = Window()
    try:
        listed = httpx.get(
            f"{api.base}/videos", params={"limit": 100}, headers=admin_headers, timeout=60
        ).json()
        video_ids = [v["video_id"] for v in listed["videos"] if v["status"] == "ready"]
        if not video_ids:
            raise SystemExit("the seeded library has no ready video")
        # The first search loads the text encoder: a server start cost, not a load figure.
        httpx.get(f"{api.base}/search", params={"q": "warm up"}, headers=admin_headers, timeout=120)
        r = httpx.post(
            f"{api.base}/ingest",
            json={"paths": [str(p) for p in to_ingest]},
            headers=admin_headers,
            timeout=60,
        )
        if r.status_code != 202:
            raise SystemExit(f"POST /ingest answered {r.status_code}: {r.text}")
        job_ids = {j["job_id"] for j in r.json()["jobs"]}
        window.jobs_total = len(job_ids)

        def unfinished() -> tuple[int, int]:
            """(jobs of this ingest not finished, of which running)."""
            page = httpx.get(
                f"{api.base}/jobs", params={"limit": 200}, headers=admin_headers, timeout=30
            ).json()["jobs"]
            mine = [j for j in page if j["job_id"] in job_ids]
            left = [j for j in mine if j["status"] in ("queued", "running")]
            return len(left), sum(j["status"] == "running" for j in left)

        left_at_start, _ = unfinished()
        print(
            f"{clients} clients for {seconds:.0f} s while {window.jobs_total} files are "
            "ingested ...",
            flush=True,
        )
        lock = threading.Lock()
        started = time.monotonic()
        stop_at = started + seconds
        threads = [
            threading.Thread(
                target=_client,
                args=(
                    api.base,
                    user,
                    video_ids,
                    stop_at,
                    max_requests,
                    request_timeout,
                    seed * 100 + i,
                    window.outcomes,
                    lock,
                    window.errors_seen,
                ),
                daemon=True,
            )
            for i, user in enumerate(users)
        ]
        for t in threads:
            t.start()
        while time.monotonic() < stop_at:
            time.sleep(1.0)
            try:
                _, running = unfinished()
            except (httpx.HTTPError, KeyError, json.JSONDecodeError):
                continue  # the poll is not one of the measured requests
            window.polls += 1
            window.busy_polls += running > 0
        for t in threads:
            t.join(timeout=request_timeout + 5)
        window.seconds = time.monotonic() - started
        left_at_end, _ = unfinished()
        window.jobs_left_at_end = left_at_end
        window.finished_during = left_at_start - left_at_end
        assert api.proc is not None
        window.api_peak_rss_mb = _rss_mb(api.proc.pid)
    finally:
        api.stop()
    return window


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(window: Window, clients: int) -> str:
    by: dict[str, list[Outcome]] = defaultdict(list)
    for o in window.outcomes:
        by[o.endpoint].append(o)
    lines = [
        f"{'endpoint':16} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8}"
    ]
    lines.append("-" * len(lines[0]))
    for name in [m for m, _ in MIX if m in by] + ["all"]:
        rows = window.outcomes if name == "all" else by[name]
        ms = [o.seconds * 1000 for o in rows]
        errors = sum(not 200 <= o.status < 300 for o in rows)
        lines.append(
            f"{name:16} {len(rows):8d} {errors:6d} {_percentile(ms, 50):8.0f} "
            f"{_percentile(ms, 95):8.0f} {_percentile(ms, 99):8.0f} {max(ms, default=0):8.0f}"
        )
    total = len(window.outcomes)
    statuses = Counter(o.status for o in window.outcomes)
    busy = window.busy_polls / window.polls if window.polls else 0.0
    lines += [
        "",
        f"clients {clients}, window {window.seconds:.1f} s, "
        f"throughput {total / window.seconds if window.seconds else 0:.1f} requests/s",
        f"answers by status: {dict(sorted(statuses.items()))}",
        f"ingest: a job was running in {busy:.0%} of {window.polls} polls; "
        f"{window.finished_during} of {window.jobs_total} files finished in the window, "
        f"{window.jobs_left_at_end} still queued or running at its end",
        f"API peak RSS {window.api_peak_rss_mb:.0f} MB",
    ]
    if window.errors_seen:
        lines.append("first errors: " + "; ".join(window.errors_seen[:5]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--max-requests", type=int, default=100_000, help="per client, at most")
    p.add_argument("--request-timeout", type=float, default=30.0)
    p.add_argument("--seed-clips", type=int, default=12, help="generated files indexed first")
    p.add_argument("--extra-clips", type=int, default=30, help="generated files ingested during")
    p.add_argument(
        "--rate-limit", type=int, default=1_000_000, help="requests a minute per user (0: off)"
    )
    p.add_argument("--quick", action="store_true", help="small library, no sample footage")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    args = p.parse_args(argv)
    if not 1 <= args.clients <= 64 or not 0 < args.seconds <= 3600:
        p.error("--clients must be 1..64 and --seconds 0..3600")
    work = Path(tempfile.mkdtemp(prefix="vs-load-"))
    try:
        window = run_load(
            work,
            clients=args.clients,
            seconds=args.seconds,
            max_requests=args.max_requests,
            request_timeout=args.request_timeout,
            seed_clips=4 if args.quick else args.seed_clips,
            extra_clips=6 if args.quick else args.extra_clips,
            samples=not args.quick,
            rate_limit=args.rate_limit,
        )
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(report(window, args.clients))
    errors = sum(not 200 <= o.status < 300 for o in window.outcomes)
    if not window.busy_polls:
        print("no ingest job ran during the window: the load was not measured beside an ingest")
        return 1
    return 1 if errors or not window.outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
