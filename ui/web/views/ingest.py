"""Add videos: upload files, or name a folder on the server (inside the allowed roots); every
job's progress by stage, live; failures with their reasons; the rest of the app refreshes when
jobs finish."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.errors import BadInput
from services.ingest import BadUpload, NothingToIngest, save_upload, start, submit
from services.library import page_jobs
from ui.web import components as ui
from ui.web import viewer
from ui.web.resources import Services, services

STAGES = {
    "queued": "Waiting",
    "register": "Checking the file",
    "sample": "Looking at the frames",
    "transcribe": "Listening to the speech",
    "embed": "Understanding",
    "commit": "Saving",
}
RECENT_JOBS = 20
ACTIVE = ("queued", "running")


def _queue(app: Services, paths: list[Path], *, confine: bool) -> None:
    viewer.require_admin()
    try:
        jobs = submit(app.settings, paths, confine=confine)
        start(app.settings, jobs, background=app.ingest)
    except (BadInput, NothingToIngest) as exc:
        st.error(ui.md(exc), icon=":material/error:")
    else:
        st.toast(f"Indexing {len(jobs)} file{'s' if len(jobs) != 1 else ''}")


def uploads(app: Services) -> None:
    with st.form("upload", clear_on_submit=True, border=False):
        files = st.file_uploader(
            "Upload videos",
            accept_multiple_files=True,
            help="Any video file (MP4, MKV, MOV, AVI, WebM, MPEG, ...). Kept on the server.",
        )
        if st.form_submit_button("Index these files", icon=":material/upload:") and files:
            viewer.require_admin()
            paths = []
            for f in files:
                try:
                    paths.append(save_upload(app.settings, f.name, f))
                except BadUpload as exc:
                    st.error(f"{ui.md(f.name)}: {ui.md(exc)}", icon=":material/error:")
            if paths:
                _queue(app, paths, confine=False)


def folder(app: Services) -> None:
    roots = app.settings.http_roots
    st.caption(
        "This server reads videos only from these folders (and what is uploaded here): "
        + ", ".join(f"`{ui.md(r)}`" for r in roots)
    )
    st.caption(
        "To let it read another folder, start it with VIDSEARCH_ALLOWED_ROOTS naming the folders, "
        "separated by colons (e.g. `VIDSEARCH_ALLOWED_ROOTS=/srv/videos:/mnt/nas/films`)."
    )
    with st.form("folder", border=False):
        path = st.text_input("A folder or file on the server", placeholder="/srv/videos/holidays")
        if st.form_submit_button("Index this folder", icon=":material/folder_open:") and path:
            target = Path(path.strip()).expanduser()
            if not target.exists():
                # The one who asks is an admin of this server: saying so tells them nothing new.
                st.error(f"{ui.md(target)} does not exist on this server.", icon=":material/error:")
            else:
                _queue(app, [target], confine=True)


@st.fragment(run_every=1.0)
def jobs_panel() -> None:
    """The newest jobs, refreshed every second; when one finishes, the whole page reruns so the
    library (and the search index) shows it."""
    app = services()
    jobs = page_jobs(app.settings, limit=RECENT_JOBS).items
    active = {j["job_id"] for j in jobs if j["status"] in ACTIVE}
    before = st.session_state.get("active-jobs", set())
    st.session_state["active-jobs"] = active
    if before - active:
        st.toast("Indexing finished: the library is up to date.", icon=":material/done_all:")
        st.rerun(scope="app")
    if not jobs:
        st.caption("No jobs yet.")
        return
    for j in jobs:
        name = ui.md(Path(j["path"]).name)
        with st.container(border=True, key=f"job-{j['job_id']}"):
            if j["status"] in ACTIVE:
                stage = STAGES.get(j["stage"], j["stage"])
                st.progress(j["progress"], text=f"**{name}** · {stage} · {j['progress']:.0%}")
            elif j["status"] == "failed":
                st.markdown(f"**{name}**")
                st.error(ui.md(j["error"] or "failed"), icon=":material/error:")
            elif j["status"] == "interrupted":
                st.markdown(f"**{name}**")
                st.warning(
                    "Interrupted part way: it carries on when vidsearch next starts.",
                    icon=":material/pause_circle:",
                )
            elif j["status"] == "skipped":
                st.markdown(
                    f"**{name}** · already in the library ({ui.md(j['note'] or 'same content')})"
                )
            else:
                with st.container(horizontal=True, vertical_alignment="center"):
                    st.markdown(f":material/check_circle: **{name}** · indexed")
                    if j["video_id"]:
                        ui.video_link(j["video_id"], "Watch", icon=":material/play_arrow:")


def page() -> None:
    viewer.require_admin()
    app = services()
    st.title("Add videos")
    upload_tab, folder_tab = st.tabs(["Upload files", "A folder on the server"])
    with upload_tab:
        uploads(app)
    with folder_tab:
        folder(app)
    st.subheader("Progress")
    jobs_panel()


page()
