"""For you: what the signed-in user can continue watching, then recommendations, each with its
reason; a welcome that says how it works for someone new."""

from __future__ import annotations

import streamlit as st

from services.library import video_cards
from services.recommendations import continue_watching
from services.users import UnknownUser, history
from ui.web import components as ui
from ui.web import viewer
from ui.web.resources import services

RECOMMENDATIONS = 12


def page() -> None:
    app = services()
    me = viewer.current()
    st.title("For you")
    if me is None or me.user_id is None:
        st.info(
            "Pick who is watching in the sidebar (or add a profile): this page follows what each "
            "person watches, finishes and likes.",
            icon=":material/person:",
        )
        return
    try:
        in_progress = continue_watching(
            app.settings, user_id=me.user_id, limit=8, recommender=app.recommender
        )
        picks = app.recommender.recommend(user_id=me.user_id, limit=RECOMMENDATIONS)
        new_here = not history(app.settings, user_id=me.user_id, limit=1)
    except UnknownUser:
        st.warning("This profile no longer exists: pick another one in the sidebar.")
        return
    cards = video_cards(
        app.settings, [p["video_id"] for p in in_progress] + [r.video_id for r in picks]
    )
    if new_here:
        st.info(
            f"Welcome, {ui.md(me.name)}! Nothing is known about your taste yet: watch, finish or "
            "like a few videos and this page learns from them. Until then, here is what is new "
            "and popular in the library.",
            icon=":material/waving_hand:",
        )
    if in_progress:
        st.subheader("Continue watching")
        ui.tile_grid(
            [
                {
                    "card": cards[p["video_id"]],
                    "start": p["position"],
                    "caption": f"resume at {ui.clock(p['position'])}",
                    "progress": p["progress"],
                }
                for p in in_progress
                if p["video_id"] in cards
            ],
            key="continue",
        )
    st.subheader("Recommended for you" if not new_here else "New and popular")
    if not picks:
        st.caption("Nothing to recommend yet: the library has no other ready videos.")
        return
    ui.tile_grid(
        [
            {
                "card": cards[r.video_id],
                "caption": ui.md(r.reason),
                "icon": ui.REASON_ICONS.get(r.reason_kind),
            }
            for r in picks
            if r.video_id in cards
        ],
        key="picks",
    )


page()
