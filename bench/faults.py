"""The fault-injection benchmark: the scenarios of tests/faults at length, and the table of what
the faults cost (lost, duplicated, orphaned: each must be zero).

    python bench/faults.py          # about 230 faults: the acceptance run (about 15 min on 2 cores)
    python bench/faults.py --quick  # the CI-sized run

Needs root (a private PostgreSQL cluster, run as the postgres user, and a tmpfs for the full
disk), the PostgreSQL server binaries and redis-server; it starts and stops its own servers and
never touches the shared ones.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.settings import Settings  # noqa: E402
from tests.faults.harness import (  # noqa: E402
    Audit,
    Ledger,
    PrivatePostgres,
    PrivateRedis,
    can_run_private_postgres,
    make_clips,
)
from tests.faults.inprocess import (  # noqa: E402
    index_lost_while_serving,
    ingest_here,
    postgres_restarted_during_search,
    served_index_crash_between_commit_and_sync,
    thumbnails_disk_full,
)
from tests.faults.scenarios import (  # noqa: E402
    api_stopped_and_resumed,
    chaos_round,
    crash_after_commit,
    served_stack,
)

FULL = {
    "rounds": 16,
    "videos": 20,
    "kills": 10,
    "redis": 2,
    "pg": 2,
    "losses": 15,
    "rebuilds": 5,
    "qsync_videos": 12,
    "disk_runs": 3,
    "pg_search_restarts": 10,
    "api_runs": [signal.SIGKILL, signal.SIGKILL, signal.SIGTERM],
    "cli_crashes": 5,
}
QUICK = {
    "rounds": 1,
    "videos": 20,
    "kills": 4,
    "redis": 1,
    "pg": 1,
    "losses": 3,
    "rebuilds": 1,
    "qsync_videos": 4,
    "disk_runs": 1,
    "pg_search_restarts": 2,
    "api_runs": [signal.SIGKILL],
    "cli_crashes": 1,
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the CI-sized run")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    args = p.parse_args()
    plan = QUICK if args.quick else FULL
    why = can_run_private_postgres()
    if why or shutil.which("redis-server") is None:
        print(f"bench/faults.py: cannot run: {why or 'redis-server is not installed'}")
        return 2
    work = Path(tempfile.mkdtemp(prefix="vs-faults-bench-"))
    ledger = Ledger()
    started = time.monotonic()

    def row(name: str, run, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        t = time.monotonic()
        try:
            faults, result, note = run(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a scenario that crashed is a finding, not the end
            import traceback

            traceback.print_exc()
            faults, note = 0, f"the scenario crashed: {type(exc).__name__}: {exc}"[:300]
            result = Audit(lost=[note])
        r = ledger.add(name, faults, result, time.monotonic() - t, note)
        flag = "" if result.ok() else "   <-- " + result.explain().replace("\n", "; ")[:400]
        print(
            f"{r.scenario:44} faults {r.faults:3d} videos {r.videos:3d} lost {r.lost} "
            f"dup {r.duplicated} orphan {r.orphaned} {r.seconds:6.1f} s{flag}",
            flush=True,
        )

    pg = PrivatePostgres()
    redis = PrivateRedis()
    try:
        # Served: Celery workers on Redis and PostgreSQL, an API searching throughout.
        with served_stack(work / "served", pg, redis) as stack:
            for n in range(plan["rounds"]):
                row(
                    f"served round {n + 1}: {plan['videos']} ingests",
                    chaos_round,
                    stack,
                    videos=plan["videos"],
                    kills=plan["kills"],
                    redis_restarts=plan["redis"],
                    pg_restarts=plan["pg"],
                    crash_after_commits=3,
                    seed=100 + n,
                    timeout=900,
                )
        # In this process, with the real models.
        lib = Settings(home=work / "library" / "home", summaries_at_index=False)
        clips = make_clips(work / "library" / "media", 10, seed=200)
        ingest_here(lib, clips.folder)
        for engine in ("numpy", "qdrant"):
            row(
                f"index lost while serving ({engine})",
                index_lost_while_serving,
                lib,
                clips,
                engine=engine,
                losses=plan["losses"],
                rebuilds=plan["rebuilds"],
                seed=7,
            )
        row(
            "crash between commit and index sync (served)",
            served_index_crash_between_commit_and_sync,
            Settings(home=work / "qsync" / "home", summaries_at_index=False),
            work / "qsync",
            videos=plan["qsync_videos"],
            seed=300,
        )
        for n in range(plan["disk_runs"]):
            row(
                f"full disk for thumbnails ({n + 1})",
                thumbnails_disk_full,
                Settings(home=work / f"disk{n}" / "home", summaries_at_index=False),
                work / f"disk{n}",
                videos=10,
                seed=400 + n,
            )
        url = pg.create_database("bench_search")
        pg_lib = Settings(
            home=work / "pgsearch" / "home", database_url=url, summaries_at_index=False
        )
        pg_clips = make_clips(work / "pgsearch" / "media", 8, seed=500)
        ingest_here(pg_lib, pg_clips.folder)
        row(
            "postgres restarted during search",
            postgres_restarted_during_search,
            pg_lib,
            pg_clips,
            pg,
            restarts=plan["pg_search_restarts"],
            seed=9,
        )
        # Embedded: real `vidsearch api` and `vidsearch ingest` processes.
        for n, sig in enumerate(plan["api_runs"]):
            row(
                f"API {signal.Signals(sig).name}, resumed beside a CLI",
                api_stopped_and_resumed,
                work / f"api{n}",
                videos=8,
                seed=600 + n,
                sig=sig,
            )
        row(
            "CLI crashes right after commits",
            crash_after_commit,
            work / "clicrash",
            videos=plan["cli_crashes"] + 3,
            crashes=plan["cli_crashes"],
            seed=700,
        )
    finally:
        redis.close()
        pg.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(ledger.table())
    print(
        f"\nwall time {time.monotonic() - started:.0f} s ({'quick' if args.quick else 'full'} run)"
    )
    bad = sum(r.lost + r.duplicated + r.orphaned for r in ledger.rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
