"""``vidsearch models``: the model slots and what fills them; ``models pull`` fetches one."""

from __future__ import annotations

import argparse
import sys
from typing import Any

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
    w = inner.add_parser(
        "switch",
        help="move the library to the vision model the settings name, here, with progress "
        "(resumable; the web UI and the API do it in the background)",
    )
    w.add_argument("--json", action="store_true")
    w.set_defaults(func=cmd_switch)


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from services.model_slots import describe_slots
    from services.model_switch import switch_status

    listing = describe_slots(settings)
    try:
        listing["space"] = switch_status(settings)
    except Exception as exc:  # noqa: BLE001 - a catalog that cannot be read: the slots still list
        listing["space"] = {"error": f"{type(exc).__name__}: {exc}"}
    if args.json:
        print_json(listing)
        return 0
    for row in listing["slots"]:
        state = _state(row)
        print(f"{row['slot']:15} {state:8} {row['model']}")
        where = f"{row['device']}, {row['dtype']}"
        print(f"{'':15} {'':8} {row['path']} ({where})")
        if row["error"] and row["in_use"]:
            print(f"{'':15} {'':8} {row['error']}")
    space = listing["space"]
    if space.get("pending"):
        print(
            f"switching: {space['done']} of {space['total']} videos re-embedded into "
            f"{space['pending']} (search uses {space['active']} until all are)"
        )
    return 0 if all(r["ready"] or not r["required"] for r in listing["slots"]) else 1


def cmd_pull(args: argparse.Namespace, settings: Settings) -> int:
    from services.model_pull import PullError, configured_pulls, pull

    required, optional = (args.names, []) if args.names else configured_pulls(settings)
    if not required and not optional:
        print("vidsearch models pull: no model named, and the settings name none to fetch")
        return 0
    failed = 0
    for name in [*required, *optional]:
        try:
            done = pull(name, force=args.force)
        except PullError as exc:
            if name in required:
                print(f"vidsearch models pull: {exc}", file=sys.stderr)
                failed += 1
            else:
                print(f"vidsearch models pull: {exc} (optional: summaries are extractive)")
            continue
        verb = "already in the cache" if done.already else "fetched"
        print(f"{name}: {verb}: {done.folder}")
    return 1 if failed else 0


def cmd_switch(args: argparse.Namespace, settings: Settings) -> int:
    from services.model_switch import run_switch
    from ui.cli.output import Bars

    if not models_ready("models switch", settings):
        return 2
    bars = Bars(enabled=not args.json and sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bars.update(0, "re-embedding", f"{done}/{total} videos", done / max(1, total))

    result = run_switch(settings, progress=progress)
    bars.close(0, "done")
    report = {
        "switched": bool(result and result.swapped),
        "active": result.active if result else None,
        "missing": result.missing if result else 0,
    }
    if args.json:
        print_json(report)
    elif result is None:
        print("nothing to switch: the library is in the space the settings name")
    elif result.swapped:
        print(f"switched: search now uses {result.active}")
    else:
        print(f"not switched yet: {result.missing} video(s) still to re-embed; run it again")
    return 0 if result is None or result.swapped else 1


def models_ready(command: str, settings: Settings) -> bool:
    """The start-up check of a command that serves or indexes: False (after printing the one
    line that says what is missing and how to fetch it) when a required model is not usable."""
    from services.model_slots import startup_problem

    problem = startup_problem(settings)
    if problem:
        print(f"vidsearch {command}: {problem}", file=sys.stderr)
        return False
    return True


def _state(row: dict[str, Any]) -> str:
    """One word for a slot in the listing."""
    if not row["in_use"]:
        return "off"
    if row["ready"]:
        return "ready"
    # A slot that is not required is the summarizer: extractive summaries until one is pulled.
    return "MISSING" if row["required"] else "fallback"
