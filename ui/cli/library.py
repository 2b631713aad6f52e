"""``vidsearch videos``, ``jobs``, ``reindex``, ``doctor`` and ``samples``: the library as it is."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.settings import Settings
from ui.cli.output import Bars, print_json, shown


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("videos", help="list indexed videos")
    s.add_argument("--json", action="store_true")
    s.add_argument("--status", choices=["pending", "processing", "ready", "failed"])
    s.set_defaults(func=cmd_videos)

    s = sub.add_parser("jobs", help="list ingest jobs")
    s.add_argument("--json", action="store_true")
    s.add_argument("--limit", type=int, default=200)
    s.set_defaults(func=cmd_jobs)

    s = sub.add_parser("doctor", help="check backends, models, device and versions")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser("reindex", help="sync the vector index from the catalog")
    s.add_argument(
        "--rebuild", action="store_true", help="drop the index and write every point again"
    )
    s.set_defaults(func=cmd_reindex)

    s = sub.add_parser("samples", help="gather the package-shipped sample footage into a folder")
    s.add_argument("dest", nargs="?", default=None)
    s.add_argument("--no-narration", action="store_true", help="skip the espeak-ng narrated clip")
    s.set_defaults(func=cmd_samples)


def cmd_videos(args: argparse.Namespace, settings: Settings) -> int:
    from services.library import page_videos

    videos = page_videos(settings, status=args.status).items
    if args.json:
        print_json({"videos": videos})
    elif not videos:
        print("no videos yet: vidsearch ingest PATH")
    else:
        for v in videos:
            dur = f"{v['duration']:.1f}s" if v["duration"] else "-"
            extra = f"  {shown(v['error'])}" if v["error"] else f"  {v['segments']} segments"
            print(f"{v['video_id']}  {v['status']:10} {dur:>8}  {shown(v['path'])}{extra}")
    return 0


def cmd_jobs(args: argparse.Namespace, settings: Settings) -> int:
    from services.library import page_jobs

    jobs = page_jobs(settings, limit=args.limit).items
    if args.json:
        print_json({"jobs": jobs})
    elif not jobs:
        print("no jobs yet: vidsearch ingest PATH")
    else:
        for j in jobs:
            detail = j["error"] or j["note"] or ""
            print(
                f"{j['job_id']:>5} {j['status']:9} {j['stage']:10} {j['progress'] * 100:5.1f}%  "
                f"{shown(j['path'])}" + (f"  ({shown(detail)})" if detail else "")
            )
    return 0


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    from services.library import reindex

    bars = Bars(sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bars.update(0, "reading text and people in older segments", "", done / max(1, total))

    where, report = reindex(settings, rebuild=args.rebuild, on_progress=progress)
    bars.close(0, "done")
    print(f"{where}: upserted {report.upserted}, deleted {report.deleted}, {report.total} points")
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from services.doctor import run_checks

    checks = run_checks(settings)
    if args.json:
        print_json({"checks": checks})
    else:
        for c in checks:
            print(f"{'ok ' if c['ok'] else 'BAD'} {c['name']:16} {c['detail']}")
    return 0 if all(c["ok"] for c in checks) else 1


def cmd_samples(args: argparse.Namespace, settings: Settings) -> int:
    from services.samples import gather_samples

    dest = Path(args.dest) if args.dest else None
    for f in gather_samples(settings, dest, narrated=not args.no_narration):
        print(f)
    return 0
