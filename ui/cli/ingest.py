"""``vidsearch ingest``: index files or folders, here (embedded) or on the workers (served)."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.settings import Settings
from ui.cli.output import Bars, fail, print_json, shown

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser(
        "ingest",
        help="index video files or folders",
        description="Index video files or folders (recursively). In the embedded mode the "
        "jobs run here; jobs a stopped or crashed run left are resumed first.",
    )
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--wait", action="store_true", help="return when every job has ended")
    s.add_argument("--json", action="store_true", help="one JSON object per file")
    s.add_argument(
        "--timeout", type=float, default=None, help="with --wait: give up after this many seconds"
    )
    s.set_defaults(func=cmd_ingest)


class _Terminated(SystemExit):
    """SIGTERM: stop like Ctrl-C does (the job in hand reads interrupted, the rest resumable)."""


@contextmanager
def _stop_cleanly_on_sigterm() -> Iterator[None]:
    def handler(_signum: int, _frame: object) -> None:
        raise _Terminated(EXIT_TERMINATED)

    try:
        before = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding program): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from services.ingest import NothingToIngest, submit

    try:
        job_ids = submit(settings, args.paths)
    except NothingToIngest as exc:
        return fail("ingest", str(exc))
    if settings.embedded_tasks:
        return _run_here(args, settings, job_ids)
    return _run_on_workers(args, settings, job_ids)


def _run_here(args: argparse.Namespace, settings: Settings, job_ids: list[int]) -> int:
    from services.ingest import job_views, left_behind, resume_orphans, run_jobs

    orphans = [j for j in resume_orphans(settings) if j not in job_ids]
    everything = orphans + job_ids
    labels = {v["job_id"]: v["path"] for v in job_views(settings, everything)}
    if orphans and not args.json:
        print(
            f"resuming {len(orphans)} job(s) a stopped run left behind",
            file=sys.stderr,
        )
    bars = Bars(enabled=not args.json and sys.stderr.isatty())
    try:
        with _stop_cleanly_on_sigterm():
            outcomes = run_jobs(
                settings,
                everything,
                listener=lambda j, stage, f: bars.update(j, labels[j], stage, f),
                on_finished=bars.close,
            )
    except (KeyboardInterrupt, SystemExit) as exc:
        left = left_behind(settings, everything)
        for view in left.interrupted:
            print(f"interrupted {shown(view['path'])} ({view['stage']})", file=sys.stderr)
        print(
            f"vidsearch ingest: stopped; {len(left.interrupted) + len(left.queued)} file(s) "
            "left to index: run the same command again to finish them",
            file=sys.stderr,
        )
        return EXIT_TERMINATED if isinstance(exc, _Terminated) else EXIT_INTERRUPTED
    return _report(args, settings, everything, outcomes, counted=job_ids)


def _run_on_workers(args: argparse.Namespace, settings: Settings, job_ids: list[int]) -> int:
    from core.models import JobStatus
    from services.ingest import dispatch, job_views, outcome, wait_for

    dispatch(settings, job_ids)
    if not args.wait:
        for view in job_views(settings, job_ids):
            if args.json:
                print_json(view)
            else:
                print(f"queued job {view['job_id']}: {shown(view['path'])}")
        return 0
    labels = {v["job_id"]: v["path"] for v in job_views(settings, job_ids)}
    bars = Bars(enabled=not args.json and sys.stderr.isatty())

    def follow(view: dict[str, Any]) -> None:
        key = view["job_id"]
        bars.update(key, labels.get(key, view["path"]), view["stage"], view["progress"])
        if view["status"] in JobStatus.FINISHED:
            bars.close(key, view["status"])

    left = wait_for(settings, job_ids, on_update=follow, timeout=args.timeout)
    # A file skipped because another job is indexing the same bytes waits for that job.
    originals = {
        v["duplicate_of"]
        for v in job_views(settings, job_ids)
        if v["status"] == JobStatus.SKIPPED and v["duplicate_of"]
    }
    if originals and not left:
        left = wait_for(settings, sorted(originals), timeout=args.timeout)
    if left:
        print(f"vidsearch ingest: gave up waiting for {len(left)} job(s)", file=sys.stderr)
    outcomes = {j: outcome(settings, j) for j in job_ids}
    return _report(args, settings, job_ids, outcomes, counted=job_ids)


def _report(
    args: argparse.Namespace,
    settings: Settings,
    job_ids: list[int],
    outcomes: dict[int, str],
    *,
    counted: list[int],
) -> int:
    """Print every job; exit 0 only if every file given (``counted``) is indexed now or was."""
    from services.ingest import all_succeeded, job_views

    for view in job_views(settings, job_ids):
        if args.json:
            print_json(view | {"outcome": outcomes.get(view["job_id"], view["status"])})
        else:
            detail = view["error"] or view["note"] or ""
            line = f"{view['status']:9} {shown(view['path'])}"
            print(line + (f"  ({shown(detail)})" if detail else ""))
    return 0 if all_succeeded(outcomes.get(j, "unfinished") for j in counted) else 1
