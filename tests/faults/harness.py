"""The fault-injection harness: a private PostgreSQL cluster and a private Redis that the tests
may restart without disturbing anyone else's, clips to ingest, the audit that counts what a
fault cost (lost, duplicated, orphaned), and the ledger that prints the table.

Used by tests/faults (a shortened run in CI) and by bench/faults.py (the full run)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.db import session_scope
from core.models import Job, JobStatus, Segment, Video, VideoPath, VideoStatus
from core.settings import Settings
from tests.processes import free_port

PG_BIN = Path("/usr/lib/postgresql")


def _pg_bin() -> Path | None:
    versions = sorted(PG_BIN.glob("*/bin/initdb")) if PG_BIN.is_dir() else []
    return versions[-1].parent if versions else None


def can_run_private_postgres() -> str | None:
    """None when a private cluster can be started here, else why not."""
    if _pg_bin() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql"
    if os.geteuid() != 0:
        return "starting a private PostgreSQL cluster needs root (to run it as postgres)"
    return None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster under /tmp on a free port (trust auth), run as the
    postgres user; ``restart(mode='immediate')`` is a crash and recovery from the WAL."""

    def __init__(self) -> None:
        bin_dir = _pg_bin()
        assert bin_dir is not None
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="vs-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.start()

    def _as_postgres(self, tool: str, *args: str, timeout: float = 120) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args],
            check=True,
            capture_output=True,
            timeout=timeout,
            cwd=self.dir,
        )

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._as_postgres(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-w",
            "-o",
            options,
            action,
            *extra,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)

    def restart(self, mode: str = "immediate", down_seconds: float = 0.0) -> None:
        """Stop (``immediate``: no shutdown checkpoint, as a crash) and start again."""
        self.stop(mode)
        time.sleep(down_seconds)
        self.start()

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        from sqlalchemy import create_engine, text

        admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A Redis of our own on a free port, no persistence (so a restart loses what it held, as
    a crashed broker without a disk does)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="vs-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--pidfile",
                str(self.dir / "redis.pid"),
                "--logfile",
                str(self.dir / "redis.log"),
            ],
            check=True,
            timeout=30,
        )
        deadline = time.monotonic() + 20
        while not self._ping():
            assert time.monotonic() < deadline, "private Redis did not start"
            time.sleep(0.05)

    def _ping(self) -> bool:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() == "PONG"

    def stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
            capture_output=True,
            timeout=10,
        )
        deadline = time.monotonic() + 10
        while self._ping() and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def close(self) -> None:
        self.stop()
        pid = self.dir / "redis.pid"
        if pid.exists():
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pid.read_text().strip()), signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- what is ingested --------------------------------------------------------------------------


@dataclass
class Clips:
    """Files to ingest: distinct clips (some with sound, some with subtitles), copies of some
    under other names (one video, several paths) and files that are not videos (each must end
    as a job failed with a reason)."""

    folder: Path
    unique: list[Path]
    copies: list[Path]
    junk: list[Path]

    @property
    def files(self) -> list[Path]:
        return sorted(self.unique + self.copies + self.junk)


def make_clips(folder: Path, count: int = 20, *, seed: int = 0) -> Clips:
    """``count`` files: distinct clips (1.5 s, 96x64, 10 fps; every third with subtitles, the
    others with sound), up to two copies of them, and one junk file (from four files on)."""
    from indexer.media import Cue, write_video
    from tests.conftest import colour_shots

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_junk = 1 if count >= 4 else 0
    n_copies = 2 if count >= 10 else (1 if count >= 5 else 0)
    n_unique = count - n_junk - n_copies
    unique = []
    for i in range(n_unique):
        frames = colour_shots([0.8, 0.7], size=(96, 64), fps=10, seed=seed * 1000 + i)
        if i % 3 == 0:
            unique.append(
                write_video(
                    folder / f"clip{seed:03d}-{i:03d}.mkv",
                    frames,
                    fps=10,
                    subtitles=[Cue(0.1, 1.2, f"scene {i} of reel {seed}")],
                )
            )
        else:
            noise = (0.05 * rng.standard_normal(24_000)).astype(np.float32)
            unique.append(
                write_video(folder / f"clip{seed:03d}-{i:03d}.mp4", frames, fps=10, audio=noise)
            )
    copies = []
    for i in range(n_copies):
        copy = folder / f"copy{seed:03d}-{i}{unique[i].suffix}"
        shutil.copyfile(unique[i], copy)
        copies.append(copy)
    junk = []
    if n_junk:
        bad = folder / f"junk{seed:03d}.mp4"
        bad.write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
        junk.append(bad)
    return Clips(folder, unique, copies, junk)


# --- what a fault cost ----------------------------------------------------------------------


@dataclass
class Audit:
    """The library after a scenario, measured against the files it was given."""

    videos: int = 0  # distinct contents expected to be indexed
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    failed_with_reason: int = 0

    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.orphaned)

    def explain(self) -> str:
        return f"lost {self.lost}\nduplicated {self.duplicated}\norphaned {self.orphaned}"


def audit(
    settings: Settings,
    clips: Clips | list[Clips],
    *,
    index: dict[str, Any] | None = None,
    expect_failed: set[Path] = frozenset(),  # type: ignore[assignment]
) -> Audit:
    """Every file ends indexed (its video ready) or failed with a reason; nothing is indexed
    twice; no segment, index point, thumbnail or job is left without its video. ``index``: a
    live index's report (GET /index, services.library.index_status) to count its orphans too."""
    batches = clips if isinstance(clips, list) else [clips]
    files = [f for b in batches for f in b.files]
    junk = {f for b in batches for f in b.junk} | set(expect_failed)
    out = Audit()
    with session_scope(settings) as s:
        videos = {v.id: v for v in s.query(Video)}
        paths = {p.path: p.video_id for p in s.query(VideoPath)}
        jobs = list(s.query(Job).order_by(Job.id))
        segments = s.query(Segment.video_id, Segment.index, Segment.thumbnail).all()
    by_path: dict[str, list[Job]] = {}
    for job in jobs:
        by_path.setdefault(job.path, []).append(job)
    expected_ids = set()
    for f in files:
        name = str(f.absolute())
        mine = by_path.get(name, [])
        unfinished = [j.id for j in mine if j.status not in JobStatus.FINISHED]
        if unfinished:
            out.lost.append(f"{f.name}: jobs {unfinished} never finished")
            continue
        video = videos.get(paths.get(name, ""))
        if f in junk:
            if video is not None and video.status == VideoStatus.READY:
                out.lost.append(f"{f.name}: junk indexed as a video")
            elif not any(j.status == JobStatus.FAILED and j.error for j in mine):
                out.lost.append(f"{f.name}: no job failed with a reason")
            else:
                out.failed_with_reason += 1
            continue
        if video is None:
            failed = [j for j in mine if j.status == JobStatus.FAILED and j.error]
            if failed:
                out.failed_with_reason += 1
            else:
                out.lost.append(f"{f.name}: no video and no reason ({[j.status for j in mine]})")
            continue
        expected_ids.add(video.id)
        if video.status == VideoStatus.FAILED and video.error:
            out.failed_with_reason += 1
        elif video.status != VideoStatus.READY:
            out.lost.append(f"{f.name}: video {video.id} is {video.status}")
    out.videos = len(expected_ids)
    # Indexed twice: a video committed more than once, or two jobs that both indexed it.
    succeeded: dict[str, int] = {}
    for job in jobs:
        if job.status == JobStatus.SUCCEEDED and job.video_id:
            succeeded[job.video_id] = succeeded.get(job.video_id, 0) + 1
    for vid, video in videos.items():
        if (video.revision or 0) > 1:
            out.duplicated.append(f"video {vid} committed {video.revision} times")
        if succeeded.get(vid, 0) > 1:
            out.duplicated.append(f"video {vid} indexed by {succeeded[vid]} jobs")
    # Orphans: whatever points at a video that is not there (or not ready).
    ready = {vid for vid, v in videos.items() if v.status == VideoStatus.READY}
    for vid, idx, _thumb in segments:
        if vid not in ready:
            out.orphaned.append(f"segment {vid}/{idx} of a video that is not ready")
    for job in jobs:
        if job.video_id and job.video_id not in videos:
            out.orphaned.append(f"job {job.id} of a missing video {job.video_id}")
    referenced = {t for _, _, t in segments if t}
    root = settings.thumbnails_dir
    if root.exists():
        for p in root.rglob("*"):
            if p.is_file() and str(p.relative_to(root)) not in referenced:
                out.orphaned.append(f"thumbnail {p.relative_to(root)}")
            if p.is_dir() and p.parent == root and p.name not in ready:
                out.orphaned.append(f"thumbnail folder of {p.name}")
    if index is not None:
        out.orphaned += [f"index point {pid}" for pid in index.get("orphaned_points", [])]
        out.lost += [f"video {v} missing from the index" for v in index.get("missing_videos", [])]
        out.lost += [f"video {v} stale in the index" for v in index.get("stale_videos", [])]
    return out


# --- the table -----------------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    faults: int
    videos: int
    lost: int
    duplicated: int
    orphaned: int
    seconds: float
    note: str = ""


class Ledger:
    """Rows of the fault table, one per scenario run, and the table itself."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, scenario: str, faults: int, result: Audit, seconds: float, note: str = "") -> Row:
        row = Row(
            scenario,
            faults,
            result.videos,
            len(result.lost),
            len(result.duplicated),
            len(result.orphaned),
            seconds,
            note,
        )
        self.rows.append(row)
        return row

    def table(self) -> str:
        head = f"{'scenario':44} {'faults':>6} {'videos':>6} {'lost':>5} {'dup':>5} {'orphan':>6} {'wall s':>7}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(
                f"{r.scenario[:44]:44} {r.faults:6d} {r.videos:6d} {r.lost:5d} {r.duplicated:5d} "
                f"{r.orphaned:6d} {r.seconds:7.1f}" + (f"  {r.note}" if r.note else "")
            )
        total = Row(
            "total",
            sum(r.faults for r in self.rows),
            sum(r.videos for r in self.rows),
            sum(r.lost for r in self.rows),
            sum(r.duplicated for r in self.rows),
            sum(r.orphaned for r in self.rows),
            sum(r.seconds for r in self.rows),
        )
        lines.append("-" * len(head))
        lines.append(
            f"{total.scenario:44} {total.faults:6d} {total.videos:6d} {total.lost:5d} "
            f"{total.duplicated:5d} {total.orphaned:6d} {total.seconds:7.1f}"
        )
        return "\n".join(lines)


LEDGER = Ledger()  # the CI run's rows, printed at the end of the session (tests/faults/conftest.py)
