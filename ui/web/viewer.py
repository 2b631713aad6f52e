"""Who is watching: the user of this browser session (picked, or created, in the sidebar) and the
watch events recorded for them."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.settings import Settings
from services import users
from ui.web.components import md

KEY = "viewer"  # {"user_id": int, "name": str} once someone is picked


def current() -> dict[str, Any] | None:
    viewer = st.session_state.get(KEY)
    return viewer if isinstance(viewer, dict) else None


def sign_in(user: dict[str, Any]) -> None:
    st.session_state[KEY] = {"user_id": user["user_id"], "name": user["name"]}


def sidebar(settings: Settings) -> None:
    """The profile picker and a way to add a profile."""
    everyone = users.list_users(settings)
    by_id = {u["user_id"]: u for u in everyone}
    me = current()
    if me is not None and me["user_id"] not in by_id:
        st.session_state.pop(KEY, None)  # deleted meanwhile
        me = None
    st.subheader("Who is watching?")
    if everyone:
        ids = list(by_id)
        chosen = st.selectbox(
            "Profile",
            ids,
            index=ids.index(me["user_id"]) if me else None,
            format_func=lambda i: by_id[i]["name"],
            placeholder="Pick your profile",
            label_visibility="collapsed",
            key="viewer-pick",
        )
        if chosen is not None and (me is None or me["user_id"] != chosen):
            sign_in(by_id[chosen])
    else:
        st.caption("No profiles yet: add one to keep a history and get recommendations.")
    with (
        st.popover("Add a profile", icon=":material/person_add:", width="stretch"),
        st.form("new-profile", clear_on_submit=True, border=False),
    ):
        name = st.text_input("Name", max_chars=200)
        if st.form_submit_button("Add and sign in") and name.strip():
            try:
                user = users.add_user(settings, name)
                token = user.pop("token")
            except users.UserError as exc:
                st.error(md(exc))
            else:
                sign_in(user)
                st.session_state["new-token"] = (user["name"], token)
                st.rerun()
    issued = st.session_state.pop("new-token", None)
    if issued:
        st.success(f"Hello, {md(issued[0])}!")
        st.caption("Your API token for the HTTP API, shown this once:")
        st.code(issued[1], language=None)


def record(settings: Settings, video_id: str, kind: str, position: float | None = None) -> bool:
    """Record an event for whoever is watching; nothing when nobody is (returns whether stored).
    A refused event says why, in a toast, and the page goes on."""
    me = current()
    if me is None:
        return False
    try:
        users.record_event(
            settings, user_id=me["user_id"], video_id=video_id, kind=kind, position=position
        )
    except (users.EventError, users.UnknownUser) as exc:
        st.toast(f"Not recorded: {md(exc)}", icon=":material/error:")
        return False
    return True
