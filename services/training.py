"""Training VideoBERT on the library and moving search to it: train → begin the transition →
re-embed every ready video (in this process, or one Celery task per video) → swap the new
vectors in. Every step is idempotent, so running it again after a crash carries on."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from core.db import session_scope
from core.queue import REEMBED_TASK, send
from core.settings import Settings
from core.vectors import VectorStore, open_vector_store
from model_lifecycle.active import reconcile_active_file, relative_to_home
from model_lifecycle.reembed import Status, SwapResult, reembed_library, reembed_video, try_swap
from model_lifecycle.spaces import (
    ModelRef,
    active_space,
    begin_transition,
    pending_space,
    progress_of,
    videos_missing_space,
)
from model_lifecycle.train import NothingToTrain, train_library
from services.background_run import BackgroundRun
from videobert.checkpoint import checkpoint_name

log = logging.getLogger(__name__)
StepProgress = Callable[[int, int, dict[str, float]], None]  # (step, steps, losses)
VideoProgress = Callable[[int, int], None]  # (videos done, videos in all)


class CannotTrain(ValueError):
    """Training is not possible with these settings or this library (the message says why)."""


def queue_reembeds(settings: Settings) -> list[str]:
    """Served mode: one re-embed task per ready video missing from the pending space; the last
    one to finish swaps. Returns the queued video ids."""
    pending = pending_space(settings)
    if pending is None:
        return []
    with session_scope(settings) as session:
        todo = videos_missing_space(session=session, name=pending.name)
    for video_id in todo:
        send(REEMBED_TASK, video_id, pending.name)
    return todo


def _shared_store(settings: Settings) -> VectorStore | None:
    # A Qdrant server is re-synced after the swap; in-process indexes re-sync themselves.
    return open_vector_store(settings) if settings.qdrant_url else None


def train_and_swap(
    settings: Settings,
    *,
    epochs: float | None = None,
    steps: int | None = None,
    device: str | None = None,
    reembed_only: bool = False,
    wait: bool = False,
    timeout: float | None = None,
    on_step: StepProgress | None = None,
    on_video: VideoProgress | None = None,
) -> dict[str, Any]:
    """Train (unless ``reembed_only``), then move the library into the new model's space.

    Returns a report: the checkpoint and its losses, and whether search now uses the new model
    (``swapped``), or what is still ``pending``. In served mode the re-embeds are queued and,
    with ``wait``, followed until the swap (or ``timeout``). Raises CannotTrain.
    """
    if settings.embedder != "videobert":
        raise CannotTrain(
            "VIDSEARCH_EMBEDDER=bridge makes every vector without VideoBERT; "
            "set VIDSEARCH_EMBEDDER=videobert to train and use it"
        )
    reconcile_active_file(settings)
    active = active_space(settings)
    if settings.vision_model or (active is not None and active.vision):
        # Its visual words and training read EfficientNet-Lite0's 1280-d clip features; a
        # vision-language space searches with the model's own towers instead.
        raise CannotTrain(
            "VideoBERT trains on the shipped frame encoder's features, and this library is read "
            "by a vision-language model (VIDSEARCH_VISION_MODEL): its own image and text towers "
            "make the vectors, with nothing to train; unset it (the library moves back) to train"
        )
    report: dict[str, Any] = {}
    if not reembed_only:
        try:
            outcome = train_library(
                settings, epochs=epochs, steps=steps, device=device, progress=on_step
            )
        except NothingToTrain as exc:
            raise CannotTrain(str(exc)) from exc
        ref = ModelRef(
            name=checkpoint_name(outcome.checkpoint),
            checkpoint=relative_to_home(settings.home, outcome.checkpoint),
        )
        report.update(
            checkpoint=str(outcome.checkpoint),
            model=ref.name,
            steps=outcome.steps,
            trained_steps=outcome.trained_steps,
            examples=outcome.examples,
            visual_words=outcome.visual_words,
            losses={k: round(v, 4) for k, v in outcome.losses.items()},
        )
        active = active_space(settings)
        if active is not None and active.name == ref.name:
            return report | {
                "swapped": False,
                "active": ref.name,
                "note": "this model is already active",
            }
        pending = pending_space(settings)
        if pending is None or pending.name != ref.name:
            begin_transition(settings, ref)
    pending = pending_space(settings)
    if pending is None:
        active = active_space(settings)
        return report | {
            "swapped": False,
            "active": active.name if active else None,
            "note": "nothing pending",
        }

    store = _shared_store(settings)
    if settings.embedded_tasks:
        from services.redecode import redecoder

        reembed_library(settings, progress=on_video, store=store, redecode=redecoder(settings))
    else:
        report["queued"] = len(queue_reembeds(settings))
        _follow_swap(settings, pending, store, wait=wait, timeout=timeout, on_video=on_video)
    active = active_space(settings)
    swapped = active is not None and active.name == pending.name
    report.update(swapped=swapped, active=active.name if active else None)
    report["pending"] = None if swapped else pending.name
    if not swapped and not settings.embedded_tasks and not wait:
        report["note"] = "re-embed jobs queued; search moves to the new model when they finish"
    return report


def _follow_swap(
    settings: Settings,
    pending: ModelRef,
    store: VectorStore | None,
    *,
    wait: bool,
    timeout: float | None,
    on_video: VideoProgress | None,
) -> SwapResult:
    swap = try_swap(settings, store=store)  # nothing left to queue: swap here
    deadline = time.monotonic() + timeout if timeout else None
    while wait and not swap.swapped and swap.active != pending.name:
        if on_video:
            on_video(*progress_of(settings, pending.name))
        if pending_space(settings) != pending:
            break  # another model became pending, or the swap happened
        if deadline is not None and time.monotonic() > deadline:
            break
        time.sleep(0.5)
        swap = try_swap(settings, store=store)
    return swap


class TrainingRun(BackgroundRun):
    """Training asked for over HTTP: one run at a time in a background thread of this process
    (train → re-embed → swap, as ``vidsearch train``), its progress and outcome readable while
    it goes. A second start while one runs is refused (RuntimeError)."""

    def start(self, *, epochs: float | None = None, steps: int | None = None) -> dict[str, Any]:
        started = self._launch(
            "training",
            self._run,
            epochs,
            steps,
            state="running",
            step=0,
            steps=None,
            started=time.time(),
        )
        if not started:
            raise RuntimeError("a training run is already going; see GET /train")
        return self.status()

    def _run(self, epochs: float | None, steps: int | None) -> None:
        def on_step(step: int, total: int, losses: dict[str, float]) -> None:
            self._update(step=step, steps=total, losses={k: round(v, 4) for k, v in losses.items()})

        try:
            report = train_and_swap(self.settings, epochs=epochs, steps=steps, on_step=on_step)
        except CannotTrain as exc:
            self._update(state="refused", error=str(exc), finished=time.time())
        except Exception as exc:  # noqa: BLE001 - reported to whoever asks, and logged
            log.exception("training failed")
            self._update(state="failed", error=f"{type(exc).__name__}: {exc}", finished=time.time())
        else:
            self._update(state="finished", report=report, finished=time.time())


def reembed_one_video(
    settings: Settings, video_id: str, *, space: str, store: VectorStore | None = None
) -> str:
    """One video's vectors in the pending space ``space`` (a worker's share of a re-embed); the
    call that completes the library swaps the space in. Idempotent: a redelivered or stale
    request finds nothing to do. Returns the video's re-embed status."""
    from services.redecode import redecoder

    status = reembed_video(settings, video_id, space=space, redecode=redecoder(settings))
    if status != Status.STALE and try_swap(settings, store=store).swapped:
        log.info("video %s completed space %s: swapped in", video_id, space)
    return status
