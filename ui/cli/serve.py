"""``vidsearch api`` and ``vidsearch worker``: the long-running processes of the served stack."""

from __future__ import annotations

import argparse
import logging

from core.settings import Settings
from ui.cli.output import fail


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("worker", help="run a Celery worker (served mode)")
    s.add_argument("--concurrency", type=int, default=None)
    s.add_argument("--loglevel", default="INFO")
    s.add_argument("--hostname", default=None)
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("api", help="serve the HTTP API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.set_defaults(func=cmd_api)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if settings.embedded_tasks:
        return fail(
            "worker",
            "set VIDSEARCH_BROKER_URL (e.g. redis://127.0.0.1:6379/0) to run a worker",
        )
    from services.ingest import dispatch, resume_orphans
    from services.tasks import app  # registers the tasks on the app it runs
    from ui.cli.models import models_ready

    if not models_ready("worker", settings):
        return 2
    from services.model_switch import queue_switch

    try:
        queued = queue_switch(settings)  # a change of vision model: one re-embed per video
    except Exception as exc:  # noqa: BLE001 - any database error: start anyway, say so
        logging.getLogger("vidsearch.worker").warning("could not begin the model switch: %s", exc)
        queued = 0
    if queued:
        logging.getLogger("vidsearch.worker").warning(
            "the library is moving to another vision model: %d re-embed task(s) queued", queued
        )

    # Jobs a person stopped part way (interrupted) go back to the queue; what a dead worker
    # held comes back from the broker by itself (acks_late). A catalog that is restarting must
    # not keep a worker from starting: the sweeper of every worker does this again later.
    try:
        resumed = resume_orphans(settings)
    except Exception as exc:  # noqa: BLE001 - any database error: start anyway
        logging.getLogger("vidsearch.worker").warning("could not resume jobs at start: %s", exc)
        resumed = []
    if resumed:
        dispatch(settings, resumed)

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


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    import uvicorn

    from api.app import create_app
    from ui.cli.models import models_ready

    if not models_ready("api", settings):
        return 2
    # The start-up line says who may call (api/auth.py); uvicorn logs its own at INFO too.
    logging.getLogger("vidsearch").setLevel(logging.INFO)
    # Forwarded addresses are believed only from the proxies the settings name: otherwise any
    # caller could pick the address its rate limit is kept under (uvicorn trusts 127.0.0.1 by
    # default).
    uvicorn.run(
        create_app(settings, host=args.host),
        host=args.host,
        port=args.port,
        log_level="info",
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
    )
    return 0
