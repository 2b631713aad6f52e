"""Search: one query box (or a picture), filters, and results as cards — the best moment's
thumbnail, title, duration, a relevance bar, the matched moments as chips that play the video
from there, and each video's summary."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime, timedelta

import streamlit as st

from core.settings import Settings
from core.vectors import SearchFilter
from search.types import QueryError, SearchResponse, VideoResult
from services.library import health, library_folders, library_tags, video_cards
from services.search import search_picture, search_text
from services.summaries import summary_for
from ui.web import components as ui
from ui.web import viewer
from ui.web.player import player
from ui.web.resources import Services, services, settings

PAGE = 10  # results per "more"
DURATIONS = {
    "Any length": (None, None),
    "Under 1 minute": (None, 60.0),
    "1 to 10 minutes": (60.0, 600.0),
    "Over 10 minutes": (600.0, None),
}
ADDED = {"Any time": None, "Past day": 1, "Past week": 7, "Past month": 30}
_SEEN = re.compile(r"\[seen: ([^\]]*)\]")
PLACEHOLDER = "Describe a moment: a cup of coffee, a tram in the street, someone talking…"


def moment_text(text: str) -> str:
    """A moment's caption as people read it: what is said, then what is seen."""
    seen = _SEEN.search(text)
    said = _SEEN.sub("", text).strip()
    parts = [f"“{ui.md(said)}”"] if said else []
    if seen and seen.group(1).strip():
        parts.append(f"*seen: {ui.md(seen.group(1).strip())}*")
    return " · ".join(parts) or "*a matching moment*"


def _filters(cfg: Settings) -> SearchFilter:
    with st.popover("Filters", icon=":material/tune:"):
        length = st.selectbox("Length", list(DURATIONS), key="f-length")
        added = st.selectbox("Added", list(ADDED), key="f-added")
        speech = st.toggle("Only videos with speech", key="f-speech")
        folders = library_folders(cfg)
        folder = st.selectbox(
            "Folder", folders, index=None, placeholder="Any folder", key="f-folder"
        )
    low, high = DURATIONS[length]
    days = ADDED[added]
    return SearchFilter(
        min_duration=low,
        max_duration=high,
        ingested_after=(datetime.now(UTC) - timedelta(days=days)).timestamp() if days else None,
        has_speech=True if speech else None,
        folder=folder,
    )


def _play(video_id: str, start: float) -> None:
    nonce = (st.session_state.get("playing") or {}).get("nonce", 0) + 1
    st.session_state["playing"] = {"video_id": video_id, "start": start, "nonce": nonce}


def result_card(app: Services, r: VideoResult, card: dict, rank: int) -> None:
    best = r.moments[0] if r.moments else None
    playing = st.session_state.get("playing") or {}
    with st.container(border=True, key=f"card-{r.video_id}"):
        left, right = st.columns([2, 5], gap="medium")
        with left:
            ui.thumbnail(card.get("thumbnail"))
        with right:
            ui.video_link(r.video_id, f"**{ui.md(r.title)}**", start=best.start if best else None)
            folder = card["path"].rsplit("/", 2)[-2] if "/" in card["path"] else ""
            st.html(
                f'<div class="vs-meta">{ui.duration_label(card.get("duration"))}'
                + (f" · {html.escape(folder)}" if folder else "")
                + "</div>"
            )
            ui.relevance_bar(r.score)
            with st.container(horizontal=True, key=f"chips-{r.video_id}"):
                for m in r.moments:
                    st.button(
                        f"▶ {ui.clock(m.start)}",
                        key=f"chip-{r.video_id}-{m.segment}",
                        on_click=_play,
                        args=(r.video_id, m.start),
                        help=f"Play from {ui.clock(m.start)}",
                    )
            for m in r.moments:
                st.markdown(f"**{ui.clock(m.start)}** {moment_text(m.text)}")
        if playing.get("video_id") == r.video_id:
            player(
                app.settings,
                r.video_id,
                start=float(playing["start"]),
                duration=card.get("duration"),
                autoplay=True,
                key=f"search-{r.video_id}",
                nonce=playing["nonce"],
            )
        with st.expander("Summary", icon=":material/notes:"):
            try:
                s = summary_for(app, r.video_id)
            except LookupError as exc:
                st.caption(f"No summary: {ui.md(exc)}")
            else:
                st.markdown(ui.summary_text(s.summary))
                st.caption("BART summary" if s.method == "bart" else "Extractive summary")


def results(app: Services, response: SearchResponse, what: str, elapsed: float) -> None:
    if not response.results:
        st.info(
            f"Nothing in your library comes close to {what}: try other words, describe what is "
            "seen or said, or loosen the filters.",
            icon=":material/search_off:",
        )
        return
    if response.cut_off:
        st.caption(f"No strong match for {what} · {elapsed * 1000:.0f} ms")
    else:
        n = response.strong
        st.caption(f"{n} video{'s' if n != 1 else ''} match {what} · {elapsed * 1000:.0f} ms")
    cards = video_cards(
        app.settings,
        [r.video_id for r in response.results],
        moments={r.video_id: r.moments[0].segment for r in response.results if r.moments},
    )
    with st.container(key="results"):
        heading = False
        for rank, r in enumerate(response.results):
            if r.weak and not heading:
                # What the cut-off would have hidden comes last, under its own label: the closest
                # the library has, never passed off as a match.
                st.markdown(
                    "**No strong match. Closest:**" if response.cut_off else "**Weaker matches:**"
                )
                heading = True
            if r.video_id in cards:
                result_card(app, r, cards[r.video_id], rank)
    if response.total > len(response.results):
        st.button(
            "More results",
            on_click=lambda: st.session_state.update(
                limit=st.session_state.get("limit", PAGE) + PAGE
            ),
        )


def page() -> None:
    # The box, its placeholder and the library's tags come from the catalog alone: they show at
    # once, before the models and the index (services()) are loaded for the first search.
    cfg = settings()
    ready = health(cfg)["videos"]
    if "q" not in st.session_state and st.query_params.get("q"):
        st.session_state["q"] = st.query_params["q"]
    st.title("Search")
    st.caption(f"{ready} video{'s' if ready != 1 else ''} in your library")
    query = st.text_input(
        "Search your videos",
        key="q",
        placeholder=PLACEHOLDER,
        label_visibility="collapsed",
        icon=":material/search:",
        on_change=lambda: st.session_state.update(limit=PAGE, playing=None),
    )
    with st.container(horizontal=True):
        flt = _filters(cfg)
        with st.popover("Find this picture", icon=":material/image_search:"):
            picture = st.file_uploader(
                "A picture to find in your videos",
                type=["png", "jpg", "jpeg", "webp", "gif", "bmp", "tiff"],
                key="picture",
            )
    if not ready:
        st.info("Your library is empty: add videos first.", icon=":material/video_library:")
        me = viewer.current()
        if me is not None and me.admin:
            st.page_link(ui.INGEST, label="Add videos", icon=":material/upload:")
        return
    if picture is None and not query.strip():
        st.query_params.pop("q", None)
        with st.container(horizontal=True, vertical_alignment="center", key="examples"):
            st.caption("Seen in your videos:", width="content")
            for example in library_tags(cfg):
                st.button(
                    example,
                    type="tertiary",
                    on_click=lambda e=example: st.session_state.update(q=e),
                )
        return
    app = services()
    limit = st.session_state.get("limit", PAGE)
    started = time.perf_counter()
    try:
        if picture is not None:
            response = search_picture(app, picture.getvalue(), limit=limit, flt=flt)
            what = "your picture"
        else:
            st.query_params["q"] = query
            response = search_text(app, query, limit=limit, flt=flt)
            what = f"“{ui.md(query.strip())}”"
    except QueryError as exc:
        st.warning(ui.md(exc), icon=":material/error:")
        return
    results(app, response, what, time.perf_counter() - started)


page()
