"""``vidsearch user``, ``event``, ``history``, ``recommend`` and ``continue``: users, their watch
history and what to watch next.

The command line acts as the machine's owner: ``--user NAME`` names a user, who must exist
(``user add``), or whom ``event --create`` makes. A bad argument is one line on stderr and exit
code 2, and changes nothing."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.settings import Settings
from ui.cli.output import fail, print_json, shown

KINDS = "watched (started), progress, completed, liked, disliked, skipped"


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("user", help="add and list users, issue API tokens")
    actions = s.add_subparsers(dest="action", required=True)
    a = actions.add_parser("add", help="add a user and print its API token (shown once)")
    a.add_argument("name")
    a.add_argument("--admin", action="store_true", help="may also create users over HTTP")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_user_add)
    a = actions.add_parser("list", help="every user (never a token)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_user_list)
    a = actions.add_parser("token", help="a new API token for a user; the old one stops working")
    a.add_argument("name")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_user_token)
    a = actions.add_parser(
        "password",
        help="set a user's web UI password (asked twice; signs their browsers out)",
    )
    a.add_argument("name")
    a.add_argument(
        "--stdin",
        action="store_true",
        help="read the password from the first line of standard input (for scripts)",
    )
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_user_password)

    s = sub.add_parser("event", help="record a watch event")
    s.add_argument("--user", required=True, help="user name (an error if nobody has it)")
    s.add_argument(
        "--create", action="store_true", help="make the user first if nobody has that name yet"
    )
    s.add_argument("--video", required=True, help="video id")
    s.add_argument("--kind", required=True, help=KINDS)
    s.add_argument("--position", default=None, help="seconds into the video")
    s.add_argument(
        "--client-event-id", default=None, help="an id of your own: sent again, stored once"
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_event)

    s = sub.add_parser("history", help="a user's watch events, newest first")
    _user_and_limit(s, default_limit=50)
    s.set_defaults(func=cmd_history)

    s = sub.add_parser("recommend", help="what a user might watch next, and why")
    _user_and_limit(s, default_limit=10)
    s.set_defaults(func=cmd_recommend)

    s = sub.add_parser("continue", help="videos a user started and did not finish")
    _user_and_limit(s, default_limit=20)
    s.set_defaults(func=cmd_continue)


def _user_and_limit(s: argparse.ArgumentParser, *, default_limit: int) -> None:
    s.add_argument("--user", required=True, help="user name")
    s.add_argument("--limit", default=str(default_limit))
    s.add_argument("--json", action="store_true")


def _number(text: str | None, what: str, kind: type[float] | type[int] = float) -> Any:
    """A number from the command line, or ValueError naming it."""
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        raise ValueError(
            f"{what} {text!r} is not a {'number' if kind is float else 'whole number'}"
        ) from None


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    from core.timecode import clock

    return clock(seconds)


def _print_token(user: dict[str, Any], as_json: bool, verb: str) -> None:
    if as_json:
        print_json(user)
        return
    print(f"{verb} user {user['name']} (id {user['user_id']}, {user['role']})")
    print('API token, shown this once (send it as "Authorization: Bearer <token>"):')
    print(user["token"])


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    from services.users import UserError, add_user

    try:
        user = add_user(settings, args.name, admin=args.admin)
    except UserError as exc:
        hint = " (vidsearch user token NAME gives it a new token)" if "exists" in str(exc) else ""
        return fail("user add", f"{exc}{hint}")
    _print_token(user, args.json, "added")
    return 0


def cmd_user_list(args: argparse.Namespace, settings: Settings) -> int:
    from services.users import list_users

    users = list_users(settings)
    if args.json:
        print_json({"users": users})
    elif not users:
        print("no users yet: vidsearch user add NAME")
    else:
        for u in users:
            token = "token" if u["has_token"] else "no token (local only)"
            print(f"{u['user_id']:>5}  {u['name']}  {u['role']}  {token}  since {u['created_at']}")
    return 0


def cmd_user_token(args: argparse.Namespace, settings: Settings) -> int:
    from services.users import UnknownUser, UserError, new_token

    try:
        user = new_token(settings, args.name)
    except UnknownUser as exc:
        return fail("user token", f"{exc} (vidsearch user add NAME adds one)")
    except UserError as exc:
        return fail("user token", str(exc))
    _print_token(user, args.json, "new token for")
    return 0


def _read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at a terminal (never echoed)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValueError("no terminal to ask on: pass --stdin and send the password on stdin")
    import getpass

    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ; nothing changed")
    return first


def cmd_user_password(args: argparse.Namespace, settings: Settings) -> int:
    from services.users import UnknownUser, UserError
    from services.web_sessions import PasswordError, set_password

    try:
        password = _read_password(args.stdin)
        user = set_password(settings, args.name, password)
    except UnknownUser as exc:
        return fail("user password", f"{exc} (vidsearch user add NAME adds one)")
    except (UserError, PasswordError, ValueError) as exc:
        return fail("user password", str(exc))
    if args.json:
        print_json(user)
    else:
        print(f"password set for {shown(user['name'])}: sign in to the web UI with it")
    return 0


def cmd_event(args: argparse.Namespace, settings: Settings) -> int:
    from services.users import EventError, UnknownUser, UserError, record_event

    try:
        event = record_event(
            settings,
            name=args.user,
            video_id=args.video,
            kind=args.kind,
            position=_number(args.position, "position"),
            client_event_id=args.client_event_id,
            create=args.create,
        )
    except (EventError, UserError, UnknownUser, ValueError) as exc:
        return fail("event", str(exc).strip("'\""))
    if args.json:
        print_json(event)
    else:
        at = f" at {_clock(event['position'])}" if event["position"] is not None else ""
        said = "recorded" if event["created"] else "already recorded (same client event id):"
        print(f"{said} {event['kind']} of {event['title']} ({event['video_id']}){at}")
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from services.users import UnknownUser, UserError, history

    try:
        events = history(settings, name=args.user, limit=_number(args.limit, "limit", int))
    except (UserError, UnknownUser, ValueError) as exc:
        return fail("history", str(exc).strip("'\""))
    if args.json:
        print_json({"events": events})
    elif not events:
        print(f"no events for {args.user.strip()} yet: vidsearch event --user NAME ...")
    else:
        for e in events:
            at = _clock(e["position"]) if e["position"] is not None else ""
            print(f"{e['at'][:19]}  {e['kind']:9} {at:>8}  {e['title']} ({e['video_id']})")
    return 0


def cmd_recommend(args: argparse.Namespace, settings: Settings) -> int:
    from services.recommendations import recommend
    from services.users import UnknownUser, UserError

    try:
        results = recommend(settings, name=args.user, limit=_number(args.limit, "limit", int))
    except (UserError, UnknownUser, ValueError) as exc:
        return fail("recommend", str(exc).strip("'\""))
    if args.json:
        print_json({"results": results})
    elif not results:
        print(
            "nothing to recommend: every ready video is in this user's history, "
            "or the library is empty (vidsearch ingest PATH)"
        )
    else:
        for r in results:
            print(f"{r['score']:6.3f}  {r['title']}  ({r['video_id']})  {r['reason']}")
    return 0


def cmd_continue(args: argparse.Namespace, settings: Settings) -> int:
    from services.recommendations import continue_watching
    from services.users import UnknownUser, UserError

    try:
        rows = continue_watching(settings, name=args.user, limit=_number(args.limit, "limit", int))
    except (UserError, UnknownUser, ValueError) as exc:
        return fail("continue", str(exc).strip("'\""))
    if args.json:
        print_json({"results": rows})
    elif not rows:
        print("nothing to continue: no video started and left unfinished")
    else:
        for r in rows:
            print(
                f"{_clock(r['position']):>8} / {_clock(r['duration']):<8} {r['title']}  "
                f"({r['video_id']})  {r['path']}"
            )
    return 0
