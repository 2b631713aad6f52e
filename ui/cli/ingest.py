"""``vidsearch ingest``: index files or folders, here (embedded) or on the workers (served)."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

from core.settings import Settings
from ui.cli.output import Bars, fail, print_json, shown

if TYPE_CHECKING:
    # Imported when the command runs: the pipeline behind them is no cost to other commands.
    from services.ingest import IngestReport
    from services.job_views import Left

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
    from services.ingest import IngestStopped, NothingToIngest, Watchers, ingest_paths
    from ui.cli.models import models_ready

    if not models_ready("ingest", settings):
        return 2
    _say_switching(settings)

    bars = Bars(enabled=not args.json and sys.stderr.isatty())
    watchers = Watchers(
        resuming=None if args.json else _say_resuming,
        progress=bars.update,
        finished=bars.close,
    )
    # Only a run here has a job in hand for SIGTERM to interrupt cleanly; on the workers'
    # side this command merely follows.
    stopping = _stop_cleanly_on_sigterm() if settings.embedded_tasks else nullcontext()
    try:
        with stopping:
            report = ingest_paths(
                settings, args.paths, wait=args.wait, timeout=args.timeout, watchers=watchers
            )
    except NothingToIngest as exc:
        return fail("ingest", str(exc))
    except IngestStopped as stop:
        _say_what_is_left(stop.left)
        return EXIT_TERMINATED if isinstance(stop.__cause__, _Terminated) else EXIT_INTERRUPTED
    if not report.waited:
        _print_queued(args, report)
        return 0
    if report.unfinished:
        print(
            f"vidsearch ingest: gave up waiting for {len(report.unfinished)} job(s)",
            file=sys.stderr,
        )
    _print_ended(args, report)
    return 0 if report.all_indexed else 1


def _say_switching(settings: Settings) -> None:
    """A changed vision model: the library's space becomes pending before anything is indexed
    (so these videos go into the space search uses now), and the user hears how it moves."""
    from services.model_switch import begin_switch, switch_status

    if begin_switch(settings) is None:
        return
    state = switch_status(settings)
    print(
        f"the library is moving to {state['pending']} ({state['done']} of {state['total']} "
        "videos re-embedded); search uses the old model until `vidsearch models switch` (or the "
        "web UI or API, in the background) finishes it",
        file=sys.stderr,
    )


def _say_resuming(job_ids: list[int]) -> None:
    print(f"resuming {len(job_ids)} job(s) a stopped run left behind", file=sys.stderr)


def _say_what_is_left(left: Left) -> None:
    for view in left.interrupted:
        print(f"interrupted {shown(view['path'])} ({view['stage']})", file=sys.stderr)
    print(
        f"vidsearch ingest: stopped; {len(left.interrupted) + len(left.queued)} file(s) "
        "left to index: run the same command again to finish them",
        file=sys.stderr,
    )


def _print_queued(args: argparse.Namespace, report: IngestReport) -> None:
    for view in report.jobs:
        if args.json:
            print_json(view)
        else:
            print(f"queued job {view['job_id']}: {shown(view['path'])}")


def _print_ended(args: argparse.Namespace, report: IngestReport) -> None:
    """Every job, with what it achieved (in JSON) or its error or note."""
    for view in report.jobs:
        if args.json:
            print_json(view | {"outcome": report.outcomes.get(view["job_id"], view["status"])})
        else:
            detail = view["error"] or view["note"] or ""
            line = f"{view['status']:9} {shown(view['path'])}"
            print(line + (f"  ({shown(detail)})" if detail else ""))
