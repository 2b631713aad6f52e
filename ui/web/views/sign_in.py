"""Sign in: the only page anyone sees before signing in. A name and password, or an API token,
posted as a plain HTML form to ``/account/signin`` (ui/web/account.py), which sets the session
cookie; nothing of the library is shown here."""

from __future__ import annotations

import html

import streamlit as st

from ui.web import viewer
from ui.web.account import SIGN_IN

MESSAGES = {
    "failed": "Wrong name, password or token.",
    "slow": "Too many attempts: wait a few seconds and try again.",
    "needed": "Sign in to choose who is watching.",
}


def _form(fields: str, button: str, next_page: str) -> str:
    return (
        f'<form method="post" action="{SIGN_IN}" class="vs-signin" autocomplete="on">'
        f'<input type="hidden" name="next" value="{html.escape(next_page)}">'
        f'{fields}<button type="submit">{html.escape(button)}</button></form>'
    )


def page() -> None:
    st.title("Sign in")
    st.caption("This vidsearch server asks who you are before it shows its library.")
    problem = MESSAGES.get(str(st.query_params.get("signin", "")))
    if problem:
        st.error(problem, icon=":material/error:")
    # Come back to the page the link named (a deep link to a video, say), else the start.
    next_page = str(st.query_params.get("next") or viewer.here())
    password, token = st.tabs(["Name and password", "API token"])
    with password:
        st.html(
            _form(
                '<label>Name<input name="username" autocomplete="username" required '
                'maxlength="200" autofocus></label>'
                '<label>Password<input name="password" type="password" '
                'autocomplete="current-password" required maxlength="1024"></label>',
                "Sign in",
                next_page,
            )
        )
    with token:
        st.html(
            _form(
                '<label>API token<input name="token" type="password" autocomplete="off" '
                'required maxlength="300" placeholder="vsu_…"></label>',
                "Sign in with the token",
                next_page,
            )
        )
    st.caption(
        "No password yet? An admin sets one on the Settings page, or on the server with "
        "`vidsearch user password NAME`."
    )


page()
