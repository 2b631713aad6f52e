"""Settings (admins): what ``vidsearch doctor`` reports (backends, models, device, versions), the
people who may use this server (add one, set a password), and the settings it runs with."""

from __future__ import annotations

import streamlit as st

from core.settings import Settings
from services import users, web_sessions
from services.doctor import run_checks
from ui.web import components as ui
from ui.web import viewer
from ui.web.resources import settings

SHOWN = (
    "home",
    "embedder",
    "device",
    "fusion",
    "relevance_threshold",
    "weak_results",
    "moments_per_video",
    "rerank",
    "summary_model",
    "transcribe",
    "allowed_roots",
    "allowed_hosts",
)


def health(cfg: Settings) -> None:
    st.subheader("Health")
    with st.spinner("Checking backends and models…"):
        checks = run_checks(cfg)
    failing = [c for c in checks if not c["ok"]]
    if failing:
        st.error(f"{len(failing)} check(s) failing: " + ", ".join(c["name"] for c in failing))
    else:
        st.success("Everything is in order.", icon=":material/check_circle:")
    with st.container(border=True, key="health"):
        for c in checks:
            mark, name, detail = st.columns([0.4, 2, 9], vertical_alignment="top")
            # Material icons, not emoji: a server without an emoji font draws emoji as boxes.
            mark.markdown(
                ":green[:material/check_circle:]" if c["ok"] else ":red[:material/error:]"
            )
            name.markdown(f"**{ui.md(c['name'])}**")
            detail.markdown(ui.md(c["detail"]))
    st.button("Check again", icon=":material/refresh:")


def people(cfg: Settings) -> None:
    st.subheader("People")
    st.caption(
        "Everyone who may sign in. A user searches, watches and gets their own recommendations; "
        "an admin also adds videos and people."
    )
    everyone = users.list_users(cfg)
    if everyone:
        st.table(
            {
                "name": [u["name"] for u in everyone],
                "role": [u["role"] for u in everyone],
                "password": ["set" if u["has_password"] else "–" for u in everyone],
                "API token": ["issued" if u["has_token"] else "–" for u in everyone],
            }
        )
    add, password = st.columns(2, gap="large")
    with add, st.form("add-person", clear_on_submit=True):
        st.markdown("**Add someone**")
        name = st.text_input("Name", max_chars=200, key="person-name")
        new_password = st.text_input("Password (optional)", type="password", key="person-pw")
        admin = st.checkbox("Admin", key="person-admin")
        if st.form_submit_button("Add", icon=":material/person_add:") and name.strip():
            viewer.require_admin()
            try:
                user = users.add_user(cfg, name, admin=admin, password=new_password or None)
            except (users.UserError, web_sessions.PasswordError) as exc:
                st.error(ui.md(exc))
            else:
                st.success(f"Added {ui.md(user['name'])}. Their API token, shown this once:")
                st.code(user["token"], language=None)
    with password, st.form("set-password", clear_on_submit=True):
        st.markdown("**Set a password**")
        who = st.selectbox("Person", [u["name"] for u in everyone], index=None, key="pw-person")
        secret = st.text_input("New password", type="password", key="pw-new")
        if st.form_submit_button("Set", icon=":material/key:") and who and secret:
            viewer.require_admin()
            try:
                web_sessions.set_password(cfg, who, secret)
            except (users.UnknownUser, web_sessions.PasswordError) as exc:
                st.error(ui.md(exc))
            else:
                st.success(f"{ui.md(who)} can sign in with it now; their other sessions ended.")


def page() -> None:
    me = viewer.require_admin()
    cfg = settings()
    st.title("Settings")
    st.caption(f"Signed in as **{ui.md(me.name)}**")
    health(cfg)
    people(cfg)
    st.subheader("Configuration")
    st.caption(
        "Set with VIDSEARCH_* environment variables when the server starts (see the README)."
    )
    mode = "embedded (in-process)" if cfg.embedded_tasks else "served (Celery workers)"
    shown = {k: getattr(cfg, k) for k in SHOWN}
    if shown["relevance_threshold"] is None:
        shown["relevance_threshold"] = "calibrated with the model"
    rows = [("mode", mode)] + [(k, str(v)) for k, v in shown.items()]
    st.table({"setting": [r[0] for r in rows], "value": [r[1] for r in rows]})


page()
