"""``vidsearch ui``: serve the Streamlit web UI (ui/web/app.py, behind ui/web/web_server.py).

Streamlit's own settings apply as they always do (``STREAMLIT_SERVER_PORT``,
``STREAMLIT_SERVER_ADDRESS``, ``.streamlit/config.toml``, ...); ``--port`` and ``--host`` win over
them. Defaults that suit a server are added only where the person set nothing: headless (no
browser to open), no usage statistics sent anywhere, no watching of the source files, uploads
up to 4 GB, and no developer toolbar. Like ``vidsearch api`` it listens on 127.0.0.1 unless
told otherwise: on loopback the machine's owner needs no sign-in (local single-user mode);
anywhere else everyone signs in (ui/web/viewer.py)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from core.settings import Settings

APP = Path(__file__).resolve().parents[1] / "web" / "web_server.py"
# Streamlit option -> (environment variable that sets it, our default where it is unset).
SERVER_DEFAULTS = {
    "server.headless": ("STREAMLIT_SERVER_HEADLESS", "true"),
    "browser.gatherUsageStats": ("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false"),
    "server.fileWatcherType": ("STREAMLIT_SERVER_FILE_WATCHER_TYPE", "none"),
    "server.maxUploadSize": ("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", "4096"),  # MB: videos are big
    "client.toolbarMode": ("STREAMLIT_CLIENT_TOOLBAR_MODE", "minimal"),  # no developer menu
}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("ui", help="serve the web UI (Streamlit)")
    s.add_argument("--port", type=int, default=None, help="default: Streamlit's (8501)")
    s.add_argument(
        "--host",
        default=None,
        help="address to listen on (default: 127.0.0.1, unless STREAMLIT_SERVER_ADDRESS is set); "
        "off loopback, sign-in is required",
    )
    s.set_defaults(func=cmd_ui)


def streamlit_argv(args: argparse.Namespace, environ: Mapping[str, str]) -> list[str]:
    """The ``streamlit run`` command line for these arguments and this environment."""
    argv = [sys.executable, "-m", "streamlit", "run", str(APP)]
    for option, (variable, default) in SERVER_DEFAULTS.items():
        if variable not in environ:
            argv += [f"--{option}", default]
    if args.port is not None:
        argv += ["--server.port", str(args.port)]
    if args.host is not None:
        argv += ["--server.address", args.host]
    elif "STREAMLIT_SERVER_ADDRESS" not in environ:
        argv += ["--server.address", "127.0.0.1"]
    return argv


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    from ui.cli.models import models_ready

    if not models_ready("ui", settings):
        return 2
    env = dict(os.environ)
    # The app imports this project's packages, wherever Streamlit starts it from.
    root = str(APP.parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    # uvicorn (under Streamlit) believes X-Forwarded-For from 127.0.0.1 unless told: believe it
    # only from the proxies the settings name, so a caller cannot choose its own address.
    env["FORWARDED_ALLOW_IPS"] = ",".join(settings.trusted_proxies)
    argv = streamlit_argv(args, env)
    sys.stdout.flush()
    os.execve(argv[0], argv, env)  # Streamlit owns the process from here (Ctrl-C stops it)
    return 0  # not reached
