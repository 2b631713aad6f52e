"""Moving the library to the vision model the settings name: switching is a re-index, never a
reinstall.

The catalog's active space says which vision model its vectors come from (``vision_model``:
None for the shipped EfficientNet-Lite0). When the settings name another one, ``begin_switch``
makes the settings' space the pending one, and every ready video is re-embedded into it from
its file (``redecoder``: its clips' pictures decoded again, since stored clip features belong
to the model that made them), one video at a time, each committed on its own: a crash loses at
most the video in hand and the next run carries on. Search keeps answering from the active
space meanwhile (readers follow ``models/active.json``, which names it); when the last video is
done, one transaction swaps every vector in (model_lifecycle/reembed.py).

Where it runs: the API and the web UI of the embedded mode start it in a background thread at
start-up (``ModelSwitch``), ``vidsearch models switch`` runs it in the foreground, and a served
worker queues one re-embed task per video (``queue_switch``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from core.catalog import ready_spaces
from core.db import session_scope
from core.settings import Settings
from core.vectors import VectorStore
from model_lifecycle.active import reconcile_active_file, settle_active_space, vision_of
from model_lifecycle.reembed import SwapResult, needs_decoding, reembed_library
from model_lifecycle.spaces import (
    ModelRef,
    drop_pending_space,
    lock_spaces,
    progress_of,
    read_spaces,
    ref_of,
    start_pending_space,
)
from services.background_run import BackgroundRun
from videobert.options import ModelOptions

log = logging.getLogger(__name__)
VLM_PREFIX = "vlm:"


def _library_space(settings: Settings) -> tuple[ModelRef | None, ModelRef | None, str | None]:
    """(active, pending, the vision model the library's vectors come from), where an unnamed
    active space with videos is one made before spaces named their vision model."""
    options = ModelOptions.from_settings(settings)
    with session_scope(settings) as session:
        active_row, pending_row = read_spaces(session=session)
        active, pending = ref_of(active_row), ref_of(pending_row)
        if active is not None:
            return active, pending, vision_of(options, active)
        names = ready_spaces(session=session)
    if not names:
        return None, pending, options.vision_model  # nothing indexed: nothing to move
    # An unnamed space is the configured one: a vision-language space when its vectors say so.
    vlm = all(str(n).startswith(VLM_PREFIX) for n in names)
    return None, pending, options.vision_model if vlm else None


def switch_target(settings: Settings) -> ModelRef | None:
    """The space the settings want the library in, when its vision model differs from the
    library's (None: no switch). Builds the target's embedder to learn its name."""
    from videobert.embedder import configured_embedder

    options = ModelOptions.from_settings(settings)
    _, _, current = _library_space(settings)
    if current == options.vision_model:
        return None
    embedder = configured_embedder(options)
    return ModelRef(name=embedder.name, checkpoint=None, vision=options.vision_model)


def begin_switch(settings: Settings) -> ModelRef | None:
    """Make the settings' space pending if the library's vision model is another (idempotent:
    a switch already pending keeps its progress). Returns the pending target, or None."""
    target = switch_target(settings)
    if target is None:
        _drop_stale_switch(settings)
        return None
    settle_active_space(settings)  # readers keep to the library's own space until the swap
    with session_scope(settings) as session:
        _, pending_row = lock_spaces(session=session)
        if ref_of(pending_row) != target:
            start_pending_space(
                session=session, name=target.name, checkpoint=None, vision=target.vision
            )
            log.info("switching the library to %s: its videos are re-embedded", target.name)
    reconcile_active_file(settings)  # readers now follow the recorded active space
    return target


def _drop_stale_switch(settings: Settings) -> None:
    """A switch pending to a vision model the settings no longer name (the user changed it
    back) is given up rather than finished: the library already is where they want it."""
    with session_scope(settings) as session:
        pending = ref_of(lock_spaces(session=session)[1])
        if pending is None or pending.checkpoint is not None:
            return  # nothing pending, or a training's to finish
        dropped = drop_pending_space(session=session)
    log.info("gave up the switch to %s: the settings name the active model again", dropped)


def switch_status(settings: Settings) -> dict[str, Any]:
    """{"active", "pending", "done", "total", "decoding"}: where a switch stands."""
    active, pending, _ = _library_space(settings)
    out: dict[str, Any] = {
        "active": active.name if active else None,
        "pending": pending.name if pending else None,
        "done": 0,
        "total": 0,
        "decoding": False,
    }
    if pending is not None:
        out["done"], out["total"] = progress_of(settings, pending.name)
        out["decoding"] = needs_decoding(settings, active, pending)
    return out


# --- running it ---------------------------------------------------------------------------------

Progress = Callable[[int, int], None]


def run_switch(
    settings: Settings, *, progress: Progress | None = None, store: VectorStore | None = None
) -> SwapResult | None:
    """Begin (or carry on) the switch and re-embed every video here; None when no switch is
    needed. Resumable: run it again after a crash."""
    from model_lifecycle.spaces import pending_space

    target = begin_switch(settings)
    pending = pending_space(settings)
    if target is None and (pending is None or pending.checkpoint):
        return None  # nothing to switch (a training's pending space is training's to finish)
    from services.redecode import redecoder

    return reembed_library(settings, progress=progress, store=store, redecode=redecoder(settings))


def queue_switch(settings: Settings) -> int:
    """Served mode: begin the switch and queue one re-embed task per video still missing."""
    from services.training import queue_reembeds

    if begin_switch(settings) is None:
        return 0
    return len(queue_reembeds(settings))


def queue_video_if_switching(settings: Settings, video_id: str) -> bool:
    """Served mode: queue a just-indexed video's re-embed when a switch is filling a space
    this ingest could not write (one of another vision model)."""
    from core.queue import REEMBED_TASK, send

    active, pending, _ = _library_space(settings)
    if pending is None or not needs_decoding(settings, active, pending):
        return False
    send(REEMBED_TASK, video_id, pending.name)
    return True


class ModelSwitch(BackgroundRun):
    """A switch run in a background thread of a long-running embedded process (API, web UI),
    its progress readable meanwhile; search keeps answering from the active space."""

    def start(self) -> bool:
        """Look for a switch due, and run it, unless one runs here; True when started."""
        return self._launch("model-switch", self._run, state="starting", started=time.time())

    def _run(self) -> None:
        def progress(done: int, total: int) -> None:
            self._update(state="running", done=done, total=total)

        try:
            result = run_switch(self.settings, progress=progress)
        except Exception as exc:  # noqa: BLE001 - reported to whoever asks; the next start resumes
            log.exception("the switch to another vision model stopped")
            self._update(state="failed", error=f"{type(exc).__name__}: {exc}", finished=time.time())
            return
        if result is None:
            self._update(state="idle", finished=time.time())
        else:
            self._update(
                state="finished" if result.swapped else "waiting",
                active=result.active,
                missing=result.missing,
                finished=time.time(),
            )
