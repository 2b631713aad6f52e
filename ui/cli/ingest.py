"""``vidsearch ingest``: index files or folders, here (embedded) or on the workers (served)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.settings import Settings
from ui.cli.output import Bars, fail, print_json


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("ingest", help="index video files or folders")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--wait", action="store_true", help="return when every job has ended")
    s.add_argument("--json", action="store_true", help="one JSON object per file")
    s.add_argument(
        "--timeout", type=float, default=None, help="with --wait: give up after this many seconds"
    )
    s.set_defaults(func=cmd_ingest)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from services.ingest import (
        NothingToIngest,
        all_succeeded,
        dispatch,
        job_views,
        run_jobs,
        submit,
        wait_for,
    )

    try:
        job_ids = submit(settings, args.paths)
    except NothingToIngest as exc:
        return fail("ingest", str(exc))
    views = {v["job_id"]: v for v in job_views(settings, job_ids)}
    labels = {j: v["path"] for j, v in views.items()}
    bars = Bars(enabled=not args.json and sys.stderr.isatty())

    if settings.embedded_tasks:
        run_jobs(
            settings,
            job_ids,
            listener=lambda j, stage, f: bars.update(j, labels[j], stage, f),
            on_finished=bars.close,
        )
    else:
        dispatch(settings, job_ids)
        if not args.wait:
            for view in job_views(settings, job_ids):
                if args.json:
                    print_json(view)
                else:
                    print(f"queued job {view['job_id']}: {view['path']}")
            return 0

        def follow(view: dict[str, Any]) -> None:
            bars.update(view["job_id"], labels[view["job_id"]], view["stage"], view["progress"])
            if view["status"] in ("succeeded", "skipped", "failed"):
                bars.close(view["job_id"], view["status"])

        left = wait_for(settings, job_ids, on_update=follow, timeout=args.timeout)
        if left:
            print(f"vidsearch ingest: gave up waiting for {len(left)} job(s)", file=sys.stderr)

    final = job_views(settings, job_ids)
    for view in final:
        if args.json:
            print_json(view)
        else:
            detail = view["error"] or view["note"] or ""
            print(f"{view['status']:9} {view['path']}" + (f"  ({detail})" if detail else ""))
    return 0 if all_succeeded(final) else 1
