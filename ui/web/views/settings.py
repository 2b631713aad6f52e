"""Settings: what ``vidsearch doctor`` reports (backends, models, device, versions) and the
settings this server runs with."""

from __future__ import annotations

import streamlit as st

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
    "moments_per_video",
    "rerank",
    "summary_model",
    "transcribe",
    "allowed_roots",
)


def page() -> None:
    cfg = settings()
    st.title("Settings")
    me = viewer.current()
    st.caption(f"Signed in as **{ui.md(me['name'])}**" if me else "Nobody is signed in.")
    st.subheader("Health")
    with st.spinner("Checking backends and models…"):
        checks = run_checks(cfg)
    failing = [c for c in checks if not c["ok"]]
    if failing:
        st.error(f"{len(failing)} check(s) failing: " + ", ".join(c["name"] for c in failing))
    else:
        st.success("Everything is in order.", icon=":material/check_circle:")
    st.dataframe(
        {
            "": ["✅" if c["ok"] else "❌" for c in checks],
            "check": [c["name"] for c in checks],
            "detail": [c["detail"] for c in checks],
        },
        hide_index=True,
        width="stretch",
    )
    st.button("Check again", icon=":material/refresh:")
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
