"""Library: every video with its thumbnail, status, duration and summary; failures with their
reasons; re-index and remove; and the files that never became videos."""

from __future__ import annotations

import streamlit as st

from core.answers import VideoView
from services.ingest import start, submit
from services.library import (
    Busy,
    FileGone,
    delete_video,
    failed_files,
    forget_failed_file,
    page_videos,
    reindex_video,
    video_cards,
)
from services.summaries import stored_summaries
from ui.web import components as ui
from ui.web import viewer
from ui.web.resources import Services, services

PAGE = 24
FILTERS = {"All": None, "Ready": "ready", "Indexing": "processing", "Failed": "failed"}


def _reindex(app: Services, video_id: str) -> None:
    viewer.require_admin()
    try:
        jobs = reindex_video(app.settings, video_id)
        start(app.settings, jobs, background=app.ingest)
    except (Busy, FileGone, LookupError) as exc:
        st.session_state["library-message"] = ("error", str(exc))
    else:
        st.session_state["library-message"] = ("info", "Re-indexing: follow it on Add videos.")


def _remove(app: Services, video_id: str, title: str) -> None:
    viewer.require_admin()
    try:
        delete_video(app.settings, video_id)
    except (Busy, LookupError) as exc:
        st.session_state["library-message"] = ("error", str(exc))
    else:
        st.session_state["library-message"] = ("info", f"Removed “{title}” from the library.")


def _forget(app: Services, path: str) -> None:
    viewer.require_admin()
    forget_failed_file(app.settings, path)


def _retry(app: Services, path: str) -> None:
    viewer.require_admin()
    try:
        jobs = submit(app.settings, [path], confine=True)
        start(app.settings, jobs, background=app.ingest)
    except Exception as exc:  # noqa: BLE001 - any refusal is shown as its reason
        st.session_state["library-message"] = ("error", str(exc))


def video_row(
    app: Services, video: VideoView, card: dict, summary: str | None, *, admin: bool
) -> None:
    vid = video["video_id"]
    with st.container(border=True, key=f"lib-{vid}"):
        cols = st.columns([2, 6, 2] if admin else [2, 8], gap="medium")
        left, mid = cols[0], cols[1]
        with left:
            ui.thumbnail(card.get("thumbnail"))
        with mid:
            if video["status"] == "ready":
                ui.video_link(vid, f"**{ui.md(video['title'])}**")
            else:
                st.markdown(f"**{ui.md(video['title'])}**")
            with st.container(horizontal=True):
                ui.status_badge(video["status"])
                st.caption(
                    f"{ui.duration_label(video['duration'])} · "
                    f"{video['segments']} segments · "
                    f"{ui.md(video['path'])}"
                )
            if video["status"] == "failed":
                st.error(ui.md(video["error"] or "Indexing failed."), icon=":material/error:")
            elif summary:
                short = summary if len(summary) < 400 else summary[:400].rsplit(" ", 1)[0] + " …"
                st.markdown(ui.summary_text(short))  # a line per stretch, as on the video page
            elif video["status"] == "ready":
                st.caption("No summary yet: it is made when the video is opened.")
        if not admin:
            return  # re-indexing and removing are for admins
        with cols[2]:
            st.button(
                "Re-index",
                key=f"reindex-{vid}",
                icon=":material/refresh:",
                on_click=_reindex,
                args=(app, vid),
                disabled=video["status"] == "processing",
                width="stretch",
            )
            with st.popover("Remove", icon=":material/delete:", width="stretch"):
                st.write(
                    f"Remove “{ui.md(video['title'])}” from the library? Its history and summary go "
                    "too; the file stays on disk unless it was uploaded here."
                )
                st.button(
                    "Remove",
                    key=f"remove-{vid}",
                    type="primary",
                    on_click=_remove,
                    args=(app, vid, video["title"]),
                )


def page() -> None:
    app = services()
    me = viewer.current()
    admin = me is not None and me.admin
    st.title("Library")
    message = st.session_state.pop("library-message", None)
    if message:
        (st.error if message[0] == "error" else st.info)(ui.md(message[1]))
    counts = {
        name: page_videos(app.settings, status=s, limit=1).total for name, s in FILTERS.items()
    }
    cols = st.columns(4)
    for col, name in zip(cols, FILTERS, strict=True):
        col.metric(name if name != "All" else "Videos", counts[name])
    choice = st.segmented_control(
        "Show", list(FILTERS), default="All", key="library-filter", label_visibility="collapsed"
    )
    status = FILTERS[choice or "All"]
    limit = st.session_state.get("library-limit", PAGE)
    videos = page_videos(app.settings, status=status, limit=limit)
    if not videos.total:
        st.info("No videos here yet.", icon=":material/video_library:")
        st.page_link(ui.INGEST, label="Add videos", icon=":material/upload:")
    ids = [v["video_id"] for v in videos.items]
    cards = video_cards(app.settings, ids)
    summaries = stored_summaries(app.settings, ids)
    for v in videos.items:
        s = summaries.get(v["video_id"])
        video_row(app, v, cards.get(v["video_id"], {}), s.summary if s else None, admin=admin)
    if videos.total > len(videos.items):
        st.button(
            f"Show more ({videos.total - len(videos.items)} left)",
            on_click=lambda: st.session_state.update({"library-limit": limit + PAGE}),
        )

    if not admin:
        return  # which files failed, and why, is for whoever looks after the library
    failed = failed_files(app.settings)
    if failed and status in (None, "failed"):
        st.subheader("Files that could not be indexed")
        for job in failed:
            with st.container(border=True, key=f"failed-{job['job_id']}"):
                text, retry, forget = st.columns([7, 1.2, 1.2], vertical_alignment="center")
                text.markdown(f"**{ui.md(job['path'].rsplit('/', 1)[-1])}**")
                text.error(ui.md(job["error"] or "failed"), icon=":material/error:")
                retry.button(
                    "Retry", key=f"retry-{job['job_id']}", on_click=_retry, args=(app, job["path"])
                )
                forget.button(
                    "Dismiss",
                    key=f"forget-{job['job_id']}",
                    on_click=_forget,
                    args=(app, job["path"]),
                )


page()
