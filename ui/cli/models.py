"""``vidsearch models``: the model slots and what fills them; ``models pull`` fetches one."""

from __future__ import annotations

import argparse
import sys

from core.settings import Settings
from ui.cli.output import print_json


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("models", help="list the model slots; `models pull NAME` fetches a model")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_models)
    inner = s.add_subparsers(dest="action")
    p = inner.add_parser(
        "pull",
        help="fetch a model into the local Hugging Face cache (the one command that uses the "
        "network); with no name, the vision and summary models the settings name",
    )
    p.add_argument(
        "names", nargs="*", metavar="NAME", help="a model id, e.g. google/siglip2-base-patch16-224"
    )
    p.add_argument("--force", action="store_true", help="fetch again even if it is complete")
    p.set_defaults(func=cmd_pull)


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from services.model_slots import describe_slots

    listing = describe_slots(settings)
    if args.json:
        print_json(listing)
        return 0
    for row in listing["slots"]:
        state = "ready" if row["ready"] else ("off" if not row["in_use"] else "MISSING")
        if not row["in_use"]:
            state = "off"
        print(f"{row['slot']:15} {state:8} {row['model']}")
        where = f"{row['device']}, {row['dtype']}"
        print(f"{'':15} {'':8} {row['path']} ({where})")
        if row["error"] and row["in_use"]:
            print(f"{'':15} {'':8} {row['error']}")
    return 0 if all(r["ready"] or not r["required"] for r in listing["slots"]) else 1


def cmd_pull(args: argparse.Namespace, settings: Settings) -> int:
    from services.model_pull import PullError, configured_pulls, pull

    names = args.names or configured_pulls(settings)
    if not names:
        print("vidsearch models pull: no model named, and the settings name none to fetch")
        return 0
    failed = 0
    for name in names:
        try:
            done = pull(name, force=args.force)
        except PullError as exc:
            print(f"vidsearch models pull: {exc}", file=sys.stderr)
            failed += 1
            continue
        verb = "already in the cache" if done.already else "fetched"
        print(f"{name}: {verb}: {done.folder}")
    return 1 if failed else 0


def models_ready(command: str, settings: Settings) -> bool:
    """The start-up check of a command that serves or indexes: False (after printing the one
    line that says what is missing and how to fetch it) when a required model is not usable."""
    from services.model_slots import check_models
    from videobert.registry import ModelMissing

    try:
        check_models(settings)
    except ModelMissing as exc:
        print(f"vidsearch {command}: {exc}", file=sys.stderr)
        return False
    return True
