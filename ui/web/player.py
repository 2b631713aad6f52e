"""The player: ``st.video`` from a moment, and a small component that reports what the browser's
video element does (play, pause, end, and every half minute of playing) so that the watch events
of whoever is watching are recorded: started, progress and completed."""

from __future__ import annotations

import streamlit as st

from core.settings import Settings
from services.library import FileGone
from services.playback import needs_conversion, playable_file
from ui.web import components as ui
from ui.web import viewer

PROGRESS_EVERY_S = 30  # a progress event this often while playing (the resume point)
PLAYER_EVENTS = ("started", "progress", "completed")

# One set of capture-phase listeners on the document (media events do not bubble) serves every
# player: an event belongs to the player whose keyed container holds the <video>, whichever
# element React renders there. Streamlit's player starts at whole seconds; the moment's exact
# start is set once the video can seek. Streamlit calls this function again when ``data``
# changes (a new moment: ``nonce``), and its cleanup when the player goes away.
_JS = """
const KEY = "st-key-vsplayer-";
function playerOf(target) {
  if (!(target instanceof HTMLVideoElement)) return null;
  const box = target.closest("[class*='" + KEY + "']");
  if (!box) return null;
  const cls = [...box.classList].find((c) => c.startsWith(KEY));
  return (window.__vsPlayers || {})[cls] || null;
}
function settle(video, p, loaded) {
  // Once per element and moment: a new moment (nonce), or a player React mounted afresh.
  if (p.start == null) return;
  const d = Math.abs(video.currentTime - p.start);
  if (video.__vsDone === p.nonce) {
    // Streamlit's own whole-second start can land after ours on a busy page: put the moment
    // back, once; any other position is the person's.
    const whole = Math.abs(video.currentTime - Math.floor(p.start)) <= 0.02;
    if (whole && d > 0.02 && video.__vsMended !== p.nonce) {
      video.__vsMended = p.nonce;
      video.currentTime = p.start;
    }
    return;
  }
  if (d <= 0.02) video.__vsDone = p.nonce;
  else if (loaded || d < 1.01) video.currentTime = p.start;  // after Streamlit's whole second
  else video.__vsDone = p.nonce;  // the person sought elsewhere
}
const handlers = {
  loadedmetadata: (v, p) => settle(v, p, true),
  seeking: (v, p) => settle(v, p, false),
  seeked: (v, p) => settle(v, p, false),
  play: (v, p) => {
    if (!p.started) { p.started = true; p.send("started", v.currentTime); }
    p.lastSent = v.currentTime;
  },
  pause: (v, p) => { if (!v.ended) { p.send("progress", v.currentTime); p.lastSent = v.currentTime; } },
  ended: (v, p) => { p.send("completed", v.duration); p.started = false; },
  timeupdate: (v, p) => {
    if (!v.paused && Math.abs(v.currentTime - p.lastSent) >= p.every) {
      p.lastSent = v.currentTime; p.send("progress", v.currentTime);
    }
  },
};
export default function(component) {
  const { data, setTriggerValue } = component;
  const players = (window.__vsPlayers = window.__vsPlayers || {});
  const name = data.container;
  const p = (players[name] = players[name] || {started: false, lastSent: -1e9});
  p.every = data.every;
  p.send = (kind, position) => setTriggerValue("event", {kind, position, at: Date.now()});
  if (p.nonce !== data.nonce) {
    p.nonce = data.nonce;
    p.start = data.start;
    // The events can come and go before this runs, or reach an element React then replaces:
    // look again every quarter second until this moment is settled, for up to two minutes (a
    // busy server can take more than ten seconds to send a file's first bytes).
    let tries = 0;
    const look = () => {
      if (players[name] !== p || p.nonce !== data.nonce) return;  // unmounted, or a new moment
      const video = document.querySelector("." + name + " video");
      if (video && video.readyState >= 1) settle(video, p, true);
      if ((!video || video.__vsDone !== p.nonce) && ++tries < 480) setTimeout(look, 250);
    };
    look();
  }
  if (!window.__vsListening) {
    window.__vsListening = true;
    for (const [kind, handle] of Object.entries(handlers)) {
      document.addEventListener(kind, (e) => { const q = playerOf(e.target); if (q) handle(e.target, q); }, true);
    }
  }
  return () => { delete players[name]; };
}
"""
_reporter = st.components.v2.component("vidsearch_player_events", js=_JS)


def _noop() -> None:
    pass


def player(
    settings: Settings,
    video_id: str,
    *,
    start: float = 0.0,
    duration: float | None = None,
    autoplay: bool = False,
    key: str = "player",
    nonce: int = 0,
) -> bool:
    """Play the video from ``start`` (seconds) and record its events; False (with the reason
    shown) when there is nothing to play. A new ``nonce`` seeks to ``start`` again."""
    try:
        if needs_conversion(settings, video_id):
            bar = st.progress(0.0, text="Preparing a copy your browser can play (once)…")
            playable = playable_file(
                settings, video_id, on_progress=lambda f: bar.progress(f, text=bar_text(f))
            )
            bar.empty()
        else:
            playable = playable_file(settings, video_id)
    except FileGone as exc:
        st.error(f"This video's file is gone from disk: {ui.md(exc)}", icon=":material/link_off:")
        return False
    except LookupError:
        st.error("This video is not in the library any more.", icon=":material/search_off:")
        return False
    container = f"vsplayer-{key}"
    with st.container(key=container):
        st.video(str(playable.path), format=playable.mimetype, start_time=start, autoplay=autoplay)
        events = _reporter(
            key=f"{container}-events",
            data={
                "container": f"st-key-{container}",
                "every": PROGRESS_EVERY_S,
                "start": start,
                "nonce": f"{start}/{nonce}",
            },
            on_event_change=_noop,
            height=0,
        )
    record_player_event(settings, video_id, events.get("event"), duration=duration)
    return True


def record_player_event(
    settings: Settings, video_id: str, event: object, *, duration: float | None
) -> bool:
    """Record what the player component sent ({"kind", "position"}) for whoever is watching;
    anything else is ignored. The browser's idea of the end may run past the catalog's."""
    if not isinstance(event, dict) or event.get("kind") not in PLAYER_EVENTS:
        return False
    try:
        position = max(0.0, float(event.get("position") or 0.0))
    except (TypeError, ValueError):
        return False
    if duration:
        position = min(position, duration)
    return viewer.record(settings, video_id, str(event["kind"]), position)


def bar_text(fraction: float) -> str:
    return f"Preparing a copy your browser can play (once)… {fraction:.0%}"
