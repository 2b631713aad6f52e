"""The ``vidsearch`` command line: one module per group of commands, each parsing its arguments,
calling the use case in services/ and printing. Command names and JSON shapes are a contract:
keep them. Heavy libraries are imported inside the commands that need them, so ``--help`` and
the listings answer at once."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from core.logs import install_redaction
from core.settings import SettingsError, get_settings
from core.third_party import quiet_third_parties
from ui.cli import ingest, library, models, search, serve, train, users, web


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vidsearch", description="Self-hosted video search and recommendations."
    )
    sub = p.add_subparsers(dest="command", required=True)
    ingest.add_parser(sub)
    library.add_parsers(sub)
    models.add_parser(sub)
    search.add_parsers(sub)
    serve.add_parsers(sub)
    train.add_parser(sub)
    users.add_parsers(sub)
    web.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    quiet_third_parties()  # before any command imports onnxruntime (and for what it starts)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_redaction()  # no token or password reaches a log, whoever logs it
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
