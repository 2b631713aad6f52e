"""Fault scenarios, each sized by its arguments: tests/faults runs them short (CI), bench/faults.py
long. Each returns (faults injected, Audit, note) and never leaves a process or a server of its
own running behind it."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.db import session_scope
from core.models import Job, JobStatus
from core.settings import Settings
from tests.faults.harness import Audit, Clips, PrivatePostgres, PrivateRedis, audit, make_clips
from tests.processes import ApiProcess, Workers, clean_env, json_lines, run_cli

Result = tuple[int, Audit, str]


def _unfinished(settings: Settings) -> int | None:
    """Jobs not finished yet, or None while the catalog cannot be read (restarting)."""
    try:
        with session_scope(settings) as s:
            return s.query(Job).filter(Job.status.notin_(JobStatus.FINISHED)).count()
    except Exception:  # noqa: BLE001 - the database may be restarting under us
        return None


def wait_until_done(settings: Settings, timeout: float, poll: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _unfinished(settings) == 0:
            return True
        time.sleep(poll)
    return False


class Searcher:
    """A thread that searches the API every ``every`` seconds and counts the answers by status."""

    def __init__(self, base: str, token: str | None, query: str, every: float = 0.5) -> None:
        self.base, self.query, self.every = base, query, every
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.statuses: Counter[int] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Searcher:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.wait(self.every):
                try:
                    r = client.get(
                        f"{self.base}/search", params={"q": self.query}, headers=self.headers
                    )
                    self.statuses[r.status_code] += 1
                except httpx.TransportError:
                    self.statuses[0] += 1

    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)


# --- the served stack: Celery workers on Redis and PostgreSQL -------------------------------------


@dataclass
class Served:
    pg: PrivatePostgres
    redis: PrivateRedis
    settings: Settings
    env: dict[str, str]
    workers: Workers
    admin_token: str
    tmp: Path
    api: ApiProcess | None = None
    notes: list[str] = field(default_factory=list)


@contextmanager
def served_stack(tmp: Path, pg: PrivatePostgres, redis: PrivateRedis) -> Iterator[Served]:
    """A database of its own on the private cluster, a queue of its own on the private Redis,
    short leases (so a dead worker's job is taken over in seconds), an admin token."""
    from services.users import add_user

    name = f"faults_{uuid.uuid4().hex[:8]}"
    url = pg.create_database(name)
    queue = f"faults-{uuid.uuid4().hex[:6]}"
    settings = Settings(
        home=tmp / "home",
        database_url=url,
        broker_url=redis.url,
        queue=queue,
        stale_job_seconds=6,
        task_visibility_timeout=15,
        summaries_at_index=False,
    )
    env = clean_env(
        VIDSEARCH_HOME=str(settings.home),
        VIDSEARCH_DATABASE_URL=url,
        VIDSEARCH_BROKER_URL=redis.url,
        VIDSEARCH_QUEUE=queue,
        VIDSEARCH_STALE_JOB_SECONDS="6",
        VIDSEARCH_TASK_VISIBILITY_TIMEOUT="15",
        VIDSEARCH_SUMMARIES_AT_INDEX="false",
        VIDSEARCH_AUTH="required",
        VIDSEARCH_ALLOWED_ROOTS=str(tmp / "media"),
        OMP_NUM_THREADS="1",
    )
    (tmp / "logs").mkdir(parents=True, exist_ok=True)
    token = add_user(settings, "boss", admin=True)["token"]
    stack = Served(pg, redis, settings, env, Workers(env, tmp / "logs"), token, tmp)
    try:
        yield stack
    finally:
        stack.workers.stop_all()
        if stack.api is not None:
            stack.api.stop()
        from core.db import _engine_for

        _engine_for.cache_clear()  # its connections go with the engines


def _keep_two_workers(stack: Served) -> None:
    """As a supervisor (systemd, compose's restart policy) would: a worker that died by itself
    is replaced, so the round always has two."""
    for n in range(2 - len(stack.workers.alive())):
        stack.workers.start(f"w{len(stack.workers.procs)}-{n}")


def _kill_a_worker(stack: Served, rng: random.Random) -> str:
    """SIGKILL a pool process that runs tasks (3 times in 4), or a whole worker (the 4th),
    starting a new worker in its place."""
    alive = stack.workers.alive()
    proc = rng.choice(alive)
    kids = stack.workers.pool_children(proc)
    if kids and rng.random() < 0.75:
        os.kill(rng.choice(kids), signal.SIGKILL)
        return "pool process"
    stack.workers.kill(proc)
    stack.workers.start(f"w{len(stack.workers.procs)}")
    return "worker"


def chaos_round(
    stack: Served,
    *,
    videos: int,
    kills: int,
    redis_restarts: int,
    pg_restarts: int,
    crash_after_commits: int | None,
    seed: int,
    timeout: float = 600,
) -> Result:
    """Queue ``videos`` files to two workers (one whose pool processes crash between the catalog
    commit and the index sync at every ``crash_after_commits``-th commit) with an API searching
    throughout, then inject the faults at random moments while jobs remain: SIGKILLed pool
    processes and workers, Redis and PostgreSQL restarts. Returns what it cost."""
    rng = random.Random(seed)
    clips = make_clips(stack.tmp / "media" / f"round{seed}", videos, seed=seed)
    started = time.monotonic()
    if stack.api is None:
        stack.api = ApiProcess(stack.env, stack.tmp / "logs" / "api.log").start()
    crash_env = (
        {
            "VS_FAULT_AT": "sync",
            "VS_FAULT_ACTION": "crash",
            "VS_FAULT_AFTER": str(crash_after_commits),
        }
        if crash_after_commits
        else {}
    )
    if not stack.workers.alive():
        stack.workers.start("wa", **crash_env)
        stack.workers.start("wb")
    queued = run_cli(stack.env, "ingest", str(clips.folder), "--json")
    assert queued.returncode == 0, queued.stdout + queued.stderr
    plan = ["kill"] * kills + ["redis"] * redis_restarts + ["pg"] * pg_restarts
    rng.shuffle(plan)
    done: Counter[str] = Counter()
    with Searcher(stack.api.base, stack.admin_token, "scene reel") as searcher:
        for fault in plan:
            time.sleep(rng.uniform(0.3, 2.0))  # soon enough to meet work on a fast machine
            if _unfinished(stack.settings) == 0:
                break  # nothing left to hurt: count only faults that met work
            _keep_two_workers(stack)
            if fault == "kill":
                done[_kill_a_worker(stack, rng)] += 1
            elif fault == "redis":
                stack.redis.restart(down_seconds=rng.uniform(0.2, 1.5))
                done["redis restart"] += 1
            else:
                stack.pg.restart("immediate", down_seconds=rng.uniform(0.2, 1.5))
                done["postgres restart"] += 1
        _keep_two_workers(stack)
        finished = wait_until_done(stack.settings, timeout)
    crashes = _sync_crashes(stack)
    index = _api_index(stack)
    found = _search(stack)
    result = audit(stack.settings, clips, index=index)
    if not finished:
        result.lost.append("the round timed out with jobs unfinished")
    if not found:
        result.lost.append("search found nothing after the round")
    faults = sum(done.values()) + crashes
    note = ", ".join(f"{n} {what}" for what, n in sorted(done.items()))
    note += f", {crashes} commit/sync crashes; search during: {dict(searcher.statuses)}"
    stack.notes.append(f"round {seed}: {time.monotonic() - started:.0f} s")
    return faults, result, note


def _sync_crashes(stack: Served) -> int:
    """Pool processes that died at the sync fault point (exit code 70) so far."""
    pattern = re.compile(r"exited with 'exitcode 70'")
    total = 0
    for log in (stack.tmp / "logs").glob("w*.log"):
        total += len(pattern.findall(log.read_text(errors="replace")))
    seen = getattr(stack, "_crashes_counted", 0)
    stack._crashes_counted = total  # type: ignore[attr-defined]
    return total - seen


def _api_index(stack: Served) -> dict[str, Any]:
    assert stack.api is not None
    headers = {"Authorization": f"Bearer {stack.admin_token}"}
    deadline = time.monotonic() + 60
    while True:
        # The API's index catches up at its next query: ask it to, then compare.
        httpx.get(f"{stack.api.base}/search", params={"q": "scene"}, headers=headers, timeout=60)
        r = httpx.get(f"{stack.api.base}/index", headers=headers, timeout=60)
        if r.status_code == 200 and (r.json()["in_sync"] or time.monotonic() > deadline):
            return r.json()  # type: ignore[no-any-return]
        time.sleep(1)


def _search(stack: Served) -> bool:
    assert stack.api is not None
    r = httpx.get(
        f"{stack.api.base}/search",
        params={"q": "scene reel"},
        headers={"Authorization": f"Bearer {stack.admin_token}"},
        timeout=60,
    )
    return r.status_code == 200 and bool(r.json()["results"])


# --- the embedded mode: an API stopped with jobs queued, a CLI beside it -----------------------------


def api_stopped_and_resumed(tmp: Path, *, videos: int, seed: int, sig: int) -> Result:
    """An API (embedded mode, tokens required) is given a folder over HTTP and stopped (``sig``)
    after its first video; then a CLI ingesting a folder of its own and the API, restarted,
    race for what the stopped API left: each job is claimed once, every file ends indexed."""
    from services.users import add_user

    home = tmp / "home"
    settings = Settings(home=home, summaries_at_index=False)
    env = clean_env(
        VIDSEARCH_HOME=str(home),
        VIDSEARCH_SUMMARIES_AT_INDEX="false",
        VIDSEARCH_AUTH="required",
        OMP_NUM_THREADS="1",
    )
    token = add_user(settings, f"boss{seed}", admin=True)["token"]
    headers = {"Authorization": f"Bearer {token}"}
    given = make_clips(settings.videos_dir / f"api{seed}", videos, seed=seed)
    own = make_clips(settings.videos_dir / f"cli{seed}", max(3, videos // 3), seed=seed + 500)
    started = time.monotonic()
    logs = tmp / "logs"
    logs.mkdir(exist_ok=True)
    first = ApiProcess(env, logs / f"api-{seed}-a.log").start()
    second = ApiProcess(env, logs / f"api-{seed}-b.log")
    cli: subprocess.Popen | None = None
    try:
        r = httpx.post(
            f"{first.base}/ingest", json={"paths": [str(given.folder)]}, headers=headers, timeout=60
        )
        assert r.status_code == 202, r.text
        httpx.get(f"{first.base}/videos", params={"token": token}, timeout=30)  # a token in a URL
        deadline = time.monotonic() + 240
        while _succeeded(settings) < 1:
            assert time.monotonic() < deadline, first.log()[-2000:]
            time.sleep(0.2)
        first.stop(sig)
        cli = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "ingest", str(own.folder), "--wait", "--json"],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        second.start()
        out, err = cli.communicate(timeout=600)
        assert cli.returncode == 0, out + err
        finished = wait_until_done(settings, 600)
        httpx.get(f"{second.base}/search", params={"q": "scene"}, headers=headers, timeout=60)
        index = httpx.get(f"{second.base}/index", headers=headers, timeout=60).json()
        found = httpx.get(
            f"{second.base}/search", params={"q": "scene reel"}, headers=headers, timeout=60
        )
        hostile = _hostile_requests(second.base, headers)
    finally:
        if cli is not None and cli.poll() is None:
            cli.kill()
        first.stop(signal.SIGKILL)
        second.stop()
    result = audit(settings, [given, own], index=index)
    if not finished:
        result.lost.append("jobs unfinished")
    if found.status_code != 200 or not found.json()["results"]:
        result.lost.append(f"search after the restart: {found.status_code}")
    leaked = [
        p.name for p in logs.glob(f"api-{seed}-*.log") if token.split("_", 2)[2] in p.read_text()
    ]
    if leaked:
        result.orphaned.append(f"the API token is in the logs {leaked}")
    claimed = _attempts(settings)
    note = (
        f"api stopped by {signal.Signals(sig).name} after its first video; "
        f"attempts per job {dict(claimed)}; hostile requests {hostile}; "
        f"{time.monotonic() - started:.0f} s"
    )
    return 1, result, note


def _succeeded(settings: Settings) -> int:
    with session_scope(settings) as s:
        return s.query(Job).filter(Job.status == JobStatus.SUCCEEDED).count()


def _attempts(settings: Settings) -> Counter[int]:
    with session_scope(settings) as s:
        return Counter(j.attempts for j in s.query(Job))


def _hostile_requests(base: str, headers: dict[str, str]) -> dict[str, int]:
    """What the real server answers to a 100 kB query and a query of control characters (it
    must refuse both and stay up)."""
    import socket
    from urllib.parse import quote

    host, port = base.removeprefix("http://").split(":")
    line = f"GET /search?q={quote('x' * 100_000)} HTTP/1.1\r\nHost: {host}\r\n"
    line += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Connection: close\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(line.encode())
        reply = sock.recv(200).decode(errors="replace")
    long_status = int(reply.split()[1]) if reply.startswith("HTTP/") else 0
    control = httpx.get(f"{base}/search", params={"q": "\x00\x01\x1b"}, headers=headers, timeout=30)
    health = httpx.get(f"{base}/health", timeout=30)
    assert 400 <= long_status < 500 and control.status_code == 422 and health.status_code == 200
    return {"100 kB query": long_status, "control characters": control.status_code}


# --- the embedded mode: a crash between the catalog commit and the index sync ------------------------


def crash_after_commit(tmp: Path, *, videos: int, crashes: int, seed: int) -> Result:
    """`vidsearch ingest` dies (exit, no clean-up) right after committing a video and before
    anything else, ``crashes`` times; each next run finishes what is left. An API serving the
    library throughout must end with its index in sync with the catalog."""
    from services.users import add_user

    home = tmp / "home"
    settings = Settings(home=home, summaries_at_index=False)
    env = clean_env(
        VIDSEARCH_HOME=str(home), VIDSEARCH_SUMMARIES_AT_INDEX="false", OMP_NUM_THREADS="1"
    )
    token = add_user(settings, f"owner{seed}", admin=True)["token"]
    headers = {"Authorization": f"Bearer {token}"}
    clips = make_clips(tmp / "media" / f"sync{seed}", videos, seed=seed)
    started = time.monotonic()
    api = ApiProcess(env, tmp / f"api-sync-{seed}.log").start()
    crashed = 0
    try:
        with Searcher(api.base, token, "scene reel") as searcher:
            for _ in range(crashes):
                run = run_cli(
                    {
                        **env,
                        "VS_FAULT_AT": "sync",
                        "VS_FAULT_ACTION": "crash",
                        "VS_FAULT_AFTER": "1",
                    },
                    "ingest",
                    str(clips.folder),
                    "--json",
                )
                if run.returncode == 70:
                    crashed += 1
                elif run.returncode in (0, 1):
                    break  # nothing was left to commit
            final = run_cli(env, "ingest", str(clips.folder), "--wait", "--json")
        outcomes = [j["outcome"] for j in json_lines(final.stdout)]
        httpx.get(f"{api.base}/search", params={"q": "scene"}, headers=headers, timeout=60)
        index = httpx.get(f"{api.base}/index", headers=headers, timeout=60).json()
    finally:
        api.stop()
    result = audit(settings, clips, index=index)
    note = f"outcomes {dict(Counter(outcomes))}; search during {dict(searcher.statuses)}; "
    note += f"{time.monotonic() - started:.0f} s"
    return crashed, result, note


__all__ = [
    "Clips",
    "Served",
    "api_stopped_and_resumed",
    "chaos_round",
    "crash_after_commit",
    "served_stack",
    "wait_until_done",
]
