"""One video (``?v=<id>&t=<seconds>``): the player from the moment, like and dislike, the summary
and its method, the transcript with clickable timestamps, the visual tags, related videos."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from core.answers import SegmentView
from search import describe
from search.types import QueryError
from services.library import video_cards, video_detail
from services.playback import player_length
from services.search import find_similar
from services.summaries import summary_for
from ui.web import components as ui
from ui.web import viewer
from ui.web.player import player
from ui.web.resources import Services, services


def _start_from_url() -> float:
    try:
        return max(0.0, float(st.query_params.get("t", 0) or 0))
    except ValueError:
        return 0.0


def _seek(start: float) -> None:
    st.query_params["t"] = f"{start:.2f}"  # the URL says where to play from: shareable
    st.session_state["seek-nonce"] = st.session_state.get("seek-nonce", 0) + 1


def _segment_line(seg: dict) -> str:
    said = (seg.get("transcript") or "").strip()
    if said:
        return ui.md(said)
    seen = seg.get("seen") or ""
    return f"*{ui.md(seen[0].upper() + seen[1:])}*" if seen else "*–*"


def stretches(segments: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Segments as people read a transcript: consecutive silent ones that show the same thing
    are one line, from the first's start to the last's end."""
    out: list[dict] = []
    for seg in segments:
        silent = not (seg.get("transcript") or "").strip()
        last = out[-1] if out else None
        if silent and last is not None and last["silent"] and last["seen"] == seg.get("seen"):
            last["end"] = seg["end"]
            continue
        out.append({**seg, "silent": silent})
    return out


def _feedback(app: Services, video_id: str) -> None:
    me = viewer.current()
    with st.container(horizontal=True, key="feedback"):
        for label, icon, kind in (
            ("Like", ":material/thumb_up:", "liked"),
            ("Dislike", ":material/thumb_down:", "disliked"),
            ("Watched", ":material/done_all:", "completed"),
        ):
            watching = me is not None and me.user_id is not None
            if st.button(label, icon=icon, key=f"{kind}-{video_id}", disabled=not watching):
                duration = st.session_state.get(f"duration-{video_id}")
                position = duration if kind == "completed" else None
                if viewer.record(app.settings, video_id, kind, position):
                    st.toast(f"Recorded: {label.lower()}", icon=icon)
    if me is None or me.user_id is None:
        st.caption("Pick who is watching (in the sidebar) to keep a history and likes.")


def _transcript(video_id: str, segments: Sequence[Mapping[str, Any]]) -> None:
    lines = stretches(segments)
    if all(line["silent"] for line in lines):
        # One note for the whole video, not "(no speech)" on every line.
        st.caption("No speech in this video: what each stretch shows.")
    long = len(lines) > 8  # a long transcript scrolls
    with st.container(height=420 if long else "content", border=False, key="transcript"):
        for seg in lines:
            time_col, text_col = st.columns([1, 6], vertical_alignment="center")
            with time_col:
                st.button(
                    ui.clock(seg["start"]),
                    key=f"seek-{video_id}-{seg['index']}",
                    type="tertiary",
                    on_click=_seek,
                    args=(float(seg["start"]),),
                    help=f"Play from {ui.clock(seg['start'])}",
                )
            with text_col:
                st.markdown(_segment_line(seg))


def seen_in(segments: list[SegmentView]) -> list[str]:
    """What the video shows, once each: the hedged tags, then the looks that hold for at least
    half of it (a city at night is "dark" even where no tag is sure)."""
    tags = sorted({t for s in segments for t in describe.split_tags(s.get("tags"))})
    counts: dict[str, int] = {}
    for s in segments:
        for word in s.get("looks") or []:
            counts[word] = counts.get(word, 0) + 1
    return tags + [w for w, n in counts.items() if 2 * n >= len(segments)]


def _related(app: Services, video_id: str) -> None:
    st.subheader("Related videos")
    try:
        related = find_similar(app, video_id, limit=8)
    except (LookupError, QueryError):
        related = None
    if related is None or not related.results:
        st.caption("Nothing else in the library is close enough to this video.")
        return
    if related.cut_off:
        # Only weak ones: the closest the library has, said to be no more than that.
        st.caption("Nothing else in the library is close to this video. Closest:")
    cards = video_cards(
        app.settings,
        [r.video_id for r in related.results],
        moments={r.video_id: r.moments[0].segment for r in related.results if r.moments},
    )
    ui.tile_grid(
        [
            {"card": cards[r.video_id], "start": r.moments[0].start if r.moments else None}
            for r in related.results
            if r.video_id in cards
        ],
        key="related",
    )


def page() -> None:
    app = services()
    video_id = str(st.query_params.get("v", "") or "")
    try:
        detail = video_detail(app.settings, video_id)
    except LookupError:
        st.title("Video not found")
        st.info("This video is not in the library (it may have been removed).")
        st.page_link(ui.LIBRARY, label="Back to the library", icon=":material/video_library:")
        return
    st.session_state[f"duration-{video_id}"] = detail["duration"]
    start = _start_from_url()
    st.title(detail["title"], anchor=False)
    # The length the player will show (a stream may start after 0), not one a second apart.
    bits = [ui.duration_label(player_length(app.settings, video_id) or detail["duration"])]
    if detail.get("width"):
        bits.append(f"{detail['width']}×{detail['height']}")
    bits.append("speech" if detail.get("has_speech") else "no speech")
    bits.append(ui.md(detail["path"]))
    st.caption(" · ".join(bits))
    if detail["status"] != "ready":
        ui.status_badge(detail["status"])
        if detail.get("error"):
            st.error(ui.md(detail["error"]), icon=":material/error:")
        return

    main, side = st.columns([3, 2], gap="large")
    with main:
        player(
            app.settings,
            video_id,
            start=float(start),
            duration=detail["duration"],
            nonce=st.session_state.get("seek-nonce", 0),
        )
        _feedback(app, video_id)
        tags = seen_in(detail["segment_list"])
        if tags:
            st.markdown("**Seen in this video**")
            with st.container(horizontal=True, key="tags"):
                for tag in tags:
                    st.badge(tag, icon=":material/visibility:", color="gray")
    with side:
        st.subheader("Summary")
        try:
            summary = summary_for(app, video_id)
        except LookupError as exc:
            st.caption(f"No summary yet: {ui.md(exc)}")
        else:
            st.markdown(ui.summary_text(summary.summary))
            if summary.method == "bart":
                st.caption(f"Written by BART ({summary.model})")
            else:
                st.caption(
                    "Extractive summary: the video's own sentences (no BART checkpoint on disk)"
                )
        st.subheader("Transcript")
        _transcript(video_id, detail["segment_list"])
    _related(app, video_id)


page()
