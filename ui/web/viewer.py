"""Who is using the web UI, decided afresh at every run of the page: the user the browser's
session cookie signs in (ui/web/account.py set it), or, on the owner's own loopback server
(local single-user mode, no proxy in between), the machine's owner, who may also watch as any
profile. Anyone else is nobody and sees only the sign-in page.

| who | sees and may |
|---|---|
| nobody (sign-in required) | the sign-in form, nothing else |
| a user | search, watch, the library, their own history and recommendations |
| an admin | that, and add videos, re-index, remove, train, health, people |
| the owner (local mode) | what an admin may, and watching as any profile without its password |
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import streamlit as st

from core.models import UserRole
from core.settings import Settings
from services import users, web_sessions
from ui.web import access
from ui.web.account import COOKIE, SIGN_OUT, WATCH_AS
from ui.web.components import md

KEY = "viewer"  # this run's Viewer, set by app.py before any page runs


@dataclass(frozen=True)
class Viewer:
    user_id: int | None  # whose history and recommendations; None: the owner as nobody
    name: str
    role: str
    owner: bool  # the machine's owner at its own loopback server
    method: str | None = None  # how the browser signed in: password, token, local

    @property
    def admin(self) -> bool:
        return self.owner or self.role == UserRole.ADMIN


def browser_cookie() -> str | None:
    """The session cookie the browser sent when the page opened (HttpOnly: the page's own
    scripts never see it, the server does)."""
    return st.context.cookies.get(COOKIE)


def _header_names() -> list[str]:
    return list(st.context.headers.keys())


def identify(settings: Settings) -> Viewer | None:
    """Who this run of the page is for (and remember it for the pages of this run)."""
    owner = access.mode(settings).admits_owner(_header_names())
    user = web_sessions.signed_in_user(settings, browser_cookie())
    if user is not None and user["method"] == "local" and not owner:
        user = None  # a profile picked on a local-mode server proves nothing elsewhere
    if user is not None:
        me: Viewer | None = Viewer(
            user["user_id"], user["name"], user["role"], owner, user["method"]
        )
    elif owner:
        me = Viewer(None, "the machine's owner", UserRole.ADMIN, True)
    else:
        me = None
    st.session_state[KEY] = me
    return me


def current() -> Viewer | None:
    me = st.session_state.get(KEY)
    return me if isinstance(me, Viewer) else None


def require_admin() -> Viewer:
    """The admin using this page; anyone else is told so and the page stops."""
    me = current()
    if me is None or not me.admin:
        st.error("This page is for admins.", icon=":material/lock:")
        st.stop()
    assert me is not None
    return me


def here(drop: tuple[str, ...] = ("signin", "profile")) -> str:
    """This page's path and query, to come back to after a form is posted."""
    path = urlsplit(st.context.url or "/").path or "/"
    query = {k: v for k, v in st.query_params.to_dict().items() if k not in drop}
    return path + (f"?{urlencode(query)}" if query else "")


def post_form(action: str, buttons: list[tuple[str, dict[str, str]]], *, css: str) -> None:
    """Buttons that post to one of the sign-in endpoints (a page cannot set the HttpOnly
    cookie itself): each a label and its hidden fields."""
    parts = []
    for label, fields in buttons:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in {**fields, "next": here()}.items()
        )
        parts.append(
            f'<form method="post" action="{html.escape(action)}" class="{css}">{hidden}'
            f'<button type="submit">{html.escape(label)}</button></form>'
        )
    st.html("".join(parts))


def sidebar(settings: Settings, me: Viewer) -> None:
    """Who is signed in, and the way out; on the owner's machine, the profiles to watch as."""
    if not me.owner:
        st.caption(f"Signed in as **{md(me.name)}**" + (" · admin" if me.admin else ""))
        post_form(SIGN_OUT, [("Sign out", {})], css="vs-post vs-signout")
        return
    st.subheader("Who is watching?")
    if st.query_params.get("profile") == "gone":
        st.warning("That profile no longer exists.")
    everyone = users.list_users(settings)
    if me.user_id is not None:
        st.caption(f"Watching as **{md(me.name)}**")
    others = [u for u in everyone if u["user_id"] != me.user_id]
    if others:
        post_form(
            WATCH_AS,
            [(u["name"], {"user_id": str(u["user_id"])}) for u in others],
            css="vs-post vs-profile",
        )
    elif not everyone:
        st.caption("No profiles yet: add one to keep a history and get recommendations.")
    if me.user_id is not None:
        post_form(SIGN_OUT, [("Stop watching as " + me.name, {})], css="vs-post vs-signout")
    _add_profile(settings)


def _add_profile(settings: Settings) -> None:
    with (
        st.popover("Add a profile", icon=":material/person_add:", width="stretch"),
        st.form("new-profile", clear_on_submit=True, border=False),
    ):
        name = st.text_input("Name", max_chars=200)
        if st.form_submit_button("Add") and name.strip():
            try:
                user = users.add_user(settings, name)
            except users.UserError as exc:
                st.error(md(exc))
            else:
                st.session_state["new-token"] = (user["name"], user["user_id"], user["token"])
                st.rerun()
    issued = st.session_state.pop("new-token", None)
    if issued:
        name, user_id, token = issued
        st.success(f"Added {md(name)}.")
        st.caption("Their API token for the HTTP API, shown this once:")
        st.code(token, language=None)
        post_form(WATCH_AS, [(f"Watch as {name}", {"user_id": str(user_id)})], css="vs-post")


def record(settings: Settings, video_id: str, kind: str, position: float | None = None) -> bool:
    """Record an event for whoever is watching; nothing when nobody is (returns whether stored).
    A refused event says why, in a toast, and the page goes on."""
    me = current()
    if me is None or me.user_id is None:
        return False
    try:
        users.record_event(
            settings, user_id=me.user_id, video_id=video_id, kind=kind, position=position
        )
    except (users.EventError, users.UnknownUser) as exc:
        st.toast(f"Not recorded: {md(exc)}", icon=":material/error:")
        return False
    return True
