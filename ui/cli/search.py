"""``vidsearch search``, ``related`` and ``summary``."""

from __future__ import annotations

import argparse
import sys

from core.settings import Settings
from ui.cli.output import fail, print_json, print_results


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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


def _library_is_empty(settings: Settings) -> bool:
    from services.library import health

    if health(settings)["videos"]:
        return False
    print("the library has no indexed videos yet: vidsearch ingest PATH", file=sys.stderr)
    return True


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from core.vectors import SearchFilter
    from search.types import QueryError, SearchResponse, clean_query
    from services.root import Services
    from services.search import search_text

    flt = SearchFilter(
        min_duration=args.min_duration,
        max_duration=args.max_duration,
        has_speech=True if args.has_speech else None,
        folder=args.folder,
    )
    try:
        clean_query(args.query)
        if _library_is_empty(settings):  # say so, without loading a model to find nothing
            response = SearchResponse(results=[], cut_off=True)
        else:
            response = search_text(
                Services(settings),
                args.query,
                limit=args.limit,
                offset=args.offset,
                flt=flt,
                fusion=args.fusion,
            )
    except QueryError as exc:
        return fail("search", str(exc))
    print_results(
        response, as_json=args.json, nothing="no good match in the library for this query"
    )
    return 0


def cmd_related(args: argparse.Namespace, settings: Settings) -> int:
    from search.types import QueryError
    from services.root import Services
    from services.search import find_similar

    try:
        response = find_similar(
            Services(settings), args.video_id, segment=args.segment, limit=args.limit
        )
    except (LookupError, QueryError) as exc:
        return fail("related", str(exc).strip("'"))
    what = "moment" if args.segment is not None else "video"
    print_results(
        response,
        as_json=args.json,
        nothing=f"nothing else in the library is similar enough to this {what}",
    )
    return 0


def cmd_summary(args: argparse.Namespace, settings: Settings) -> int:
    from services.root import Services
    from services.summaries import summary_for

    try:
        result = summary_for(Services(settings), args.video_id)
    except LookupError as exc:
        return fail("summary", str(exc).strip("'"))
    if args.json:
        print_json(result.to_json())
    else:
        print(result.summary)
        print(
            f"({result.method}" + (f", {result.model})" if result.method != "extractive" else ")")
        )
    return 0
