"""The ``vidsearch`` command line. Its command names and JSON shapes are a contract: keep them."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.settings import Settings, SettingsError, get_settings

RESERVED = {
    "event": "record a watch event",
    "recommend": "recommendations for a user",
    "ui": "the Streamlit web UI",
}


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str))


# --- ingest ----------------------------------------------------------------------------------------
class _Bars:
    """A progress bar per file on a terminal; silent otherwise (logs and --json stay clean)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict[int, Any] = {}

    def update(self, job_id: int, label: str, stage: str, fraction: float) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        bar = self.bars.get(job_id)
        if bar is None:
            bar = self.bars[job_id] = tqdm(
                total=100,
                desc=label[-40:],
                unit="%",
                leave=True,
                bar_format="{desc} {bar} {n:.0f}% {postfix}",
            )
        bar.n = round(fraction * 100, 1)
        bar.set_postfix_str(stage, refresh=False)
        bar.refresh()

    def close(self, job_id: int, status: str) -> None:
        bar = self.bars.pop(job_id, None)
        if bar is not None:
            bar.set_postfix_str(status)
            bar.close()


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from core.catalog import job_summary, list_jobs
    from core.db import session_scope
    from core.models import JobStatus
    from indexer.submit import create_jobs, dispatch, expand_paths

    paths = list(expand_paths(Path(p) for p in args.paths))
    if not paths:
        print("vidsearch ingest: no video files found under the given paths", file=sys.stderr)
        return 2
    job_ids = create_jobs(paths, settings)
    bars = _Bars(enabled=not args.json and sys.stderr.isatty())
    labels = {j: str(p) for j, p in zip(job_ids, paths, strict=True)}

    if settings.embedded_tasks:
        # No broker: run the jobs here, one after another.
        from indexer.pipeline import fail_job, run_ingest_job

        for job_id in job_ids:
            try:
                status = run_ingest_job(
                    job_id,
                    settings=settings,
                    listener=lambda j, stage, f: bars.update(j, labels[j], stage, f),
                )
            except Exception as exc:  # a transient fault; in-process there is nobody to retry it
                status = JobStatus.FAILED
                fail_job(settings, job_id, f"{labels[job_id]}: {exc}")
            if status == JobStatus.SUCCEEDED and settings.summaries_at_index:
                _summarize_after_ingest(settings, job_id)
            bars.close(job_id, status)
    else:
        dispatch(job_ids, settings)
        if not args.wait:
            with session_scope(settings) as session:
                for job in list_jobs(session=session, job_ids=job_ids):
                    if args.json:
                        _print_json(job_summary(job))
                    else:
                        print(f"queued job {job.id}: {job.path}")
            return 0
        _wait_for(job_ids, settings, bars, labels, timeout=args.timeout)

    with session_scope(settings) as session:
        jobs = list_jobs(session=session, job_ids=job_ids)
    ok = True
    for job in jobs:
        ok &= job.status in (JobStatus.SUCCEEDED, JobStatus.SKIPPED)
        if args.json:
            _print_json(job_summary(job))
        else:
            detail = job.error or job.note or ""
            print(f"{job.status:9} {job.path}" + (f"  ({detail})" if detail else ""))
    return 0 if ok else 1


def _summarize_after_ingest(settings: Settings, job_id: int) -> None:
    """Embedded mode makes the summary right after the ingest; a failure here costs only the summary."""
    from core.catalog import get_job
    from core.db import session_scope
    from search.tasks import summarize_video_now

    with session_scope(settings) as session:
        job = get_job(session=session, job_id=job_id)
        video_id = job.video_id if job else None
    if video_id:
        try:
            summarize_video_now(settings, video_id)
        except Exception as exc:  # the video is indexed; its summary can be made on demand later
            logging.getLogger(__name__).warning("summary of %s failed: %s", video_id, exc)


def _wait_for(
    job_ids: list[int],
    settings: Settings,
    bars: _Bars,
    labels: dict[int, str],
    timeout: float | None,
) -> None:
    from core.catalog import list_jobs
    from core.db import session_scope
    from core.models import JobStatus

    deadline = time.monotonic() + timeout if timeout else None
    pending = set(job_ids)
    while pending:
        with session_scope(settings) as session:
            for job in list_jobs(session=session, job_ids=sorted(pending)):
                bars.update(job.id, labels[job.id], job.stage, job.progress)
                if job.status in JobStatus.FINISHED:
                    bars.close(job.id, job.status)
                    pending.discard(job.id)
        if deadline is not None and time.monotonic() > deadline:
            print(f"vidsearch ingest: gave up waiting for {len(pending)} job(s)", file=sys.stderr)
            return
        if pending:
            time.sleep(0.5)


# --- listings --------------------------------------------------------------------------------------
def cmd_videos(args: argparse.Namespace, settings: Settings) -> int:
    from core.catalog import list_videos, video_summary
    from core.db import session_scope

    with session_scope(settings) as session:
        videos = [video_summary(v) for v in list_videos(session=session, status=args.status)]
    if args.json:
        _print_json({"videos": videos})
    elif not videos:
        print("no videos yet: vidsearch ingest PATH")
    else:
        for v in videos:
            dur = f"{v['duration']:.1f}s" if v["duration"] else "-"
            extra = f"  {v['error']}" if v["error"] else f"  {v['segments']} segments"
            print(f"{v['video_id']}  {v['status']:10} {dur:>8}  {v['path']}{extra}")
    return 0


def cmd_jobs(args: argparse.Namespace, settings: Settings) -> int:
    from core.catalog import job_summary, list_jobs
    from core.db import session_scope

    with session_scope(settings) as session:
        jobs = [job_summary(j) for j in list_jobs(session=session, limit=args.limit)]
    if args.json:
        _print_json({"jobs": jobs})
    else:
        for j in jobs:
            detail = j["error"] or j["note"] or ""
            print(
                f"{j['job_id']:>5} {j['status']:9} {j['stage']:10} {j['progress'] * 100:5.1f}%  {j['path']}"
                + (f"  ({detail})" if detail else "")
            )
    return 0


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    from core.db import session_scope
    from core.vectors import VectorIndex

    index = VectorIndex(settings)
    with session_scope(settings) as session:
        report = (
            index.rebuild_from_catalog(session)
            if args.rebuild
            else index.sync_from_catalog(session)
        )
    where = settings.qdrant_url or "in-process index (embedded mode keeps it in memory)"
    print(f"{where}: upserted {report.upserted}, deleted {report.deleted}, {report.total} points")
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from ui.doctor import run_checks

    checks = run_checks(settings)
    if args.json:
        _print_json({"checks": checks})
    else:
        for c in checks:
            print(f"{'ok ' if c['ok'] else 'BAD'} {c['name']:16} {c['detail']}")
    return 0 if all(c["ok"] for c in checks) else 1


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if settings.embedded_tasks:
        print(
            "vidsearch worker: set VIDSEARCH_BROKER_URL (e.g. redis://127.0.0.1:6379/0) to run a worker",
            file=sys.stderr,
        )
        return 2
    from core.queue import app

    argv = [
        "worker",
        "--loglevel",
        args.loglevel,
        "--queues",
        settings.queue,
        "--concurrency",
        str(args.concurrency or settings.worker_concurrency),
        "--pool",
        "prefork",
    ]
    if args.hostname:
        argv += ["--hostname", args.hostname]
    app.worker_main(argv)
    return 0


def cmd_samples(args: argparse.Namespace, settings: Settings) -> int:
    from indexer.samples import collect_samples

    dest = Path(args.dest) if args.dest else settings.home / "samples"
    files = collect_samples(dest, narrated=not args.no_narration)
    for f in files:
        print(f)
    return 0


def _search_service(settings: Settings):  # type: ignore[no-untyped-def]
    from search.service import SearchService
    from videobert.embedder import load_embedder

    return SearchService(settings, load_embedder(settings))


def _print_results(response, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        _print_json(response.to_json())
        return
    if response.cut_off:
        print("no good match in the library for this query")
    for r in response.results:
        print(f"{r.score:6.3f}  {r.title}  ({r.video_id})  {r.path}")
        for m in r.moments:
            from search.summary import clock, strip_tags

            text = strip_tags(m.text).replace("\n", " ")
            print(f"        {clock(m.start)}-{clock(m.end)}  {m.score:5.3f}  {text[:90]}")


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from core.vectors import SearchFilter
    from search.types import QueryError

    flt = SearchFilter(
        min_duration=args.min_duration,
        max_duration=args.max_duration,
        has_speech=True if args.has_speech else None,
        folder=args.folder,
    )
    try:
        response = _search_service(settings).search(
            args.query, limit=args.limit, offset=args.offset, flt=flt, fusion=args.fusion
        )
    except QueryError as exc:
        print(f"vidsearch search: {exc}", file=sys.stderr)
        return 2
    _print_results(response, args.json)
    return 0


def cmd_related(args: argparse.Namespace, settings: Settings) -> int:
    from search.types import QueryError

    try:
        response = _search_service(settings).more_like_this(
            args.video_id, segment=args.segment, limit=args.limit
        )
    except (LookupError, QueryError) as exc:
        print(f"vidsearch related: {str(exc).strip(chr(39))}", file=sys.stderr)
        return 2
    _print_results(response, args.json)
    return 0


def cmd_summary(args: argparse.Namespace, settings: Settings) -> int:
    from core.db import session_scope
    from search.summary import summaries_for
    from videobert.embedder import load_embedder

    service = summaries_for(settings, load_embedder(settings).embed_text)
    try:
        with session_scope(settings) as session:
            result = service.for_video(session=session, video_id=args.video_id)
    except LookupError as exc:
        print(f"vidsearch summary: {str(exc).strip(chr(39))}", file=sys.stderr)
        return 2
    if args.json:
        _print_json(result.to_json())
    else:
        print(result.summary)
        print(
            f"({result.method}" + (f", {result.model})" if result.method != "extractive" else ")")
        )
    return 0


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


# --- train ---------------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    """Train VideoBERT on the library, re-embed every ready video, swap the new vectors in."""
    from tqdm import tqdm

    from indexer.reembed import (
        active_space,
        begin_transition,
        pending_space,
        progress_of,
        queue_reembeds,
        reconcile_active_file,
        reembed_library,
        try_swap,
    )
    from indexer.train import NothingToTrain, train_library
    from videobert.embedder import ModelRef, checkpoint_name, relative_to_home

    if settings.embedder != "videobert":
        print(
            "vidsearch train: VIDSEARCH_EMBEDDER=bridge makes every vector without VideoBERT; "
            "set VIDSEARCH_EMBEDDER=videobert to train and use it",
            file=sys.stderr,
        )
        return 2
    quiet = True if args.json else None  # tqdm: None shows bars on a terminal only
    reconcile_active_file(settings)
    out: dict[str, Any] = {}
    if not args.reembed_only:
        bar = tqdm(desc="training", unit="step", file=sys.stderr, disable=quiet, leave=True)

        def on_step(step: int, steps: int, losses: dict[str, float]) -> None:
            bar.total, bar.n = steps, step
            shown = ("text_mlm", "video_mlm", "alignment", "contrastive")
            bar.set_postfix({k: f"{losses[k]:.3f}" for k in shown if k in losses}, refresh=False)
            bar.refresh()

        try:
            outcome = train_library(
                settings, epochs=args.epochs, steps=args.steps, device=args.device, progress=on_step
            )
        except NothingToTrain as exc:
            print(f"vidsearch train: {exc}", file=sys.stderr)
            return 2
        finally:
            bar.close()
        ref = ModelRef(
            name=checkpoint_name(outcome.checkpoint),
            checkpoint=relative_to_home(settings, outcome.checkpoint),
        )
        out.update(
            checkpoint=str(outcome.checkpoint),
            model=ref.name,
            steps=outcome.steps,
            trained_steps=outcome.trained_steps,
            examples=outcome.examples,
            visual_words=outcome.visual_words,
            losses={k: round(v, 4) for k, v in outcome.losses.items()},
        )
        active = active_space(settings)
        if active is not None and active.name == ref.name:
            out.update(swapped=False, active=ref.name, note="this model is already active")
            return _train_report(out, args.json)
        pending = pending_space(settings)
        if pending is None or pending.name != ref.name:
            begin_transition(settings, ref)
    pending = pending_space(settings)
    if pending is None:
        active = active_space(settings)
        out.update(swapped=False, active=active.name if active else None, note="nothing pending")
        return _train_report(out, args.json)

    index = None
    if settings.qdrant_url:
        from core.vectors import VectorIndex

        index = VectorIndex(settings)
    bar = tqdm(desc="re-embedding", unit="video", file=sys.stderr, disable=quiet, leave=True)

    def on_video(done: int, total: int) -> None:
        bar.total, bar.n = total, done
        bar.refresh()

    try:
        if settings.embedded_tasks:
            swap = reembed_library(settings, progress=on_video, index=index)
        else:
            queued = queue_reembeds(settings)
            out["queued"] = len(queued)
            swap = try_swap(settings, index=index)  # nothing to queue: swap here
            deadline = time.monotonic() + args.timeout if args.timeout else None
            while args.wait and not swap.swapped and swap.active != pending.name:
                on_video(*progress_of(settings, pending.name))
                if pending_space(settings) != pending:
                    break  # another model became pending, or the swap happened
                if deadline is not None and time.monotonic() > deadline:
                    break
                time.sleep(0.5)
                swap = try_swap(settings, index=index)
    finally:
        bar.close()
    active = active_space(settings)
    out.update(
        swapped=active is not None and active.name == pending.name,
        active=active.name if active else None,
        pending=None if active is not None and active.name == pending.name else pending.name,
    )
    if not out["swapped"] and not settings.embedded_tasks and not args.wait:
        out["note"] = "re-embed jobs queued; search moves to the new model when they finish"
        return _train_report(out, args.json)
    return _train_report(out, args.json, ok=bool(out["swapped"]))


def _train_report(out: dict[str, Any], as_json: bool, ok: bool = True) -> int:
    if as_json:
        _print_json(out)
    else:
        if "checkpoint" in out:
            print(
                f"trained {out['steps']} steps ({out['trained_steps']} now) on {out['examples']} "
                f"segments, {out['visual_words']} visual words: {out['checkpoint']}"
            )
        if out.get("swapped"):
            print(f"library re-embedded; search now uses {out['active']}")
        elif out.get("note"):
            print(out["note"])
        else:
            print(f"not swapped yet: {out.get('pending')} is pending; active: {out.get('active')}")
    return 0 if ok else 1


def cmd_reserved(args: argparse.Namespace, settings: Settings) -> int:
    print(f"vidsearch {args.command}: {RESERVED[args.command]} is not built yet", file=sys.stderr)
    return 3


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vidsearch", description="Self-hosted video search and recommendations."
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="index video files or folders")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--wait", action="store_true", help="return when every job has ended")
    s.add_argument("--json", action="store_true", help="one JSON object per file")
    s.add_argument(
        "--timeout", type=float, default=None, help="with --wait: give up after this many seconds"
    )
    s.set_defaults(func=cmd_ingest)

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

    s = sub.add_parser("worker", help="run a Celery worker (served mode)")
    s.add_argument("--concurrency", type=int, default=None)
    s.add_argument("--loglevel", default="INFO")
    s.add_argument("--hostname", default=None)
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("search", help="find videos and moments by text")
    s.add_argument("query")
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--offset", type=int, default=0)
    s.add_argument("--json", action="store_true")
    s.add_argument("--min-duration", type=float, default=None)
    s.add_argument("--max-duration", type=float, default=None)
    s.add_argument("--has-speech", action="store_true", help="only videos with speech")
    s.add_argument("--folder", default=None, help="only videos under this folder")
    s.add_argument("--fusion", choices=["score", "rrf"], default=None)
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("summary", help="a video's summary, citing timestamps")
    s.add_argument("video_id")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_summary)

    s = sub.add_parser("related", help="videos like this one (or like one of its moments)")
    s.add_argument("video_id")
    s.add_argument("--segment", type=int, default=None)
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_related)

    s = sub.add_parser("api", help="serve the HTTP API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.set_defaults(func=cmd_api)

    s = sub.add_parser("reindex", help="sync the vector index from the catalog")
    s.add_argument(
        "--rebuild", action="store_true", help="drop the index and write every point again"
    )
    s.set_defaults(func=cmd_reindex)

    s = sub.add_parser("samples", help="gather the package-shipped sample footage into a folder")
    s.add_argument("dest", nargs="?", default=None)
    s.add_argument("--no-narration", action="store_true", help="skip the espeak-ng narrated clip")
    s.set_defaults(func=cmd_samples)

    s = sub.add_parser("train", help="train VideoBERT on the library, then re-embed it")
    s.add_argument("--epochs", type=float, default=None, help="passes over the library")
    s.add_argument("--steps", type=int, default=None, help="optimizer steps (wins over epochs)")
    s.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None)
    s.add_argument(
        "--reembed-only",
        action="store_true",
        help="no training: finish moving the library into the pending model",
    )
    s.add_argument("--wait", action="store_true", help="served mode: wait for the swap")
    s.add_argument("--timeout", type=float, default=None, help="with --wait: give up after this")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_train)

    for name, what in RESERVED.items():
        s = sub.add_parser(name, help=f"{what} (not built yet)")
        s.add_argument("rest", nargs=argparse.REMAINDER)
        s.set_defaults(func=cmd_reserved)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"vidsearch: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args, settings))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
