"""Which model query processes follow, and the embedders that follow it.

The catalog's ``embedding_spaces`` table is the authoritative record of the active model;
``VIDSEARCH_HOME/models/active.json`` is what readers follow (one ``stat`` per call), rewritten
after every swap (model_lifecycle/reembed.py). ``load_embedder(settings)`` is how a process that
embeds videos gets its embedder: the class-name bridge, or an ``ActiveEmbedder`` that moves to
a newly swapped-in VideoBERT without a restart. ``load_query_embedder(settings)`` is the same
for a process that mostly embeds queries (search): queries go through the active model's
exported text tower (videobert/query_encoder.py, no torch), everything else through the full
model, loaded only when asked for.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.db import session_scope
from core.settings import Settings
from model_lifecycle.spaces import ModelRef, read_spaces, ref_of
from videobert.locations import (
    ACTIVE_FILE,
    query_encoder_folder,
    vision_space_name,
    zero_shot_name,
)
from videobert.options import ModelOptions, model_options
from videobert.picture_words import FrameEncoderLike, PictureWords
from videobert.query_encoder import QueryEncoder, load_query_encoder

if TYPE_CHECKING:
    from videobert.embedder import Embedder

log = logging.getLogger(__name__)


def checkpoint_path(home: Path, checkpoint: str) -> Path:
    path = Path(checkpoint)
    return path if path.is_absolute() else Path(home) / path


def relative_to_home(home: Path, path: Path) -> str:
    """How a checkpoint is recorded: relative to VIDSEARCH_HOME when under it (the home may be
    mounted elsewhere on another machine), else absolute."""
    try:
        return str(Path(path).resolve().relative_to(Path(home).resolve()))
    except ValueError:
        return str(Path(path).resolve())


def active_file(home: Path) -> Path:
    return Path(home) / ACTIVE_FILE


def read_active(home: Path) -> ModelRef | None:
    """The active space recorded for readers (a trained VideoBERT, or a configured space with
    the vision model it reads pictures with), or None: whatever the settings configure."""
    path = active_file(home)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable active-model record: {exc}") from exc
    if not raw or not raw.get("name"):
        return None
    return ModelRef(
        name=str(raw["name"]),
        checkpoint=str(raw["checkpoint"]) if raw.get("checkpoint") else None,
        vision=str(raw["vision"]) if raw.get("vision") else None,
    )


def write_active(home: Path, ref: ModelRef | None) -> None:
    """Record the active model for readers (atomically: a reader sees the old or the new)."""
    path = active_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(ref.to_json() if ref else {}, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def reconcile_active_file(settings: Settings) -> None:
    """Bring the readers' active-model file in line with the catalog (after a crash between a
    swap's commit and the file's rewrite, or on a machine that never saw the swap)."""
    with session_scope(settings) as session:
        active = ref_of(read_spaces(session=session)[0])
    recorded = read_active(settings.home)
    if recorded != active:
        write_active(settings.home, active)


def settle_active_space(settings: Settings) -> None:
    """Name the library's space where the settings name a vision model its vectors were not
    made with and the catalog never named it (a library indexed before): readers then keep to
    that space until a switch swaps the new one in (services/model_switch.py), rather than
    embedding queries with a model the vectors do not know."""
    from core.catalog import ready_spaces
    from model_lifecycle.spaces import name_active_space

    with session_scope(settings) as session:
        active = ref_of(read_spaces(session=session)[0])
        if active is not None:
            # Named at its first commit (a vision-language space) or by a swap: readers are
            # told, whatever the settings say now.
            if active.vision is not None and read_active(settings.home) != active:
                write_active(settings.home, active)
            return
        if settings.vision_model is None:
            return
        names = ready_spaces(session=session)
    made = sorted(names, key=lambda n: -names[n])
    if not made or all(n.startswith("vlm:") for n in made):
        return  # nothing indexed yet, or indexed with a vision model (named at its commit)
    with session_scope(settings) as session:
        name_active_space(session=session, ref=ModelRef(made[0], None, None))
    reconcile_active_file(settings)


def vision_of(options: ModelOptions, ref: ModelRef | None) -> str | None:
    """The vision-language model a space reads pictures with (None: the shipped encoder). An
    unrecorded space (None) is the one the settings configure."""
    if ref is None:
        return options.vision_model
    return None if ref.checkpoint else ref.vision


def options_for(options: ModelOptions, ref: ModelRef | None) -> ModelOptions:
    """The options that rebuild a recorded space: the settings, with the space's own vision
    model (during a switch the settings already name the next one)."""
    vision = vision_of(options, ref)
    return options if vision == options.vision_model else replace(options, vision_model=vision)


def embedder_for(source: Settings | ModelOptions, ref: ModelRef | None) -> Embedder:
    """The embedder of a recorded space: its checkpoint, else what the settings configure with
    the space's own vision model."""
    from videobert.embedder import checkpoint_embedder, configured_embedder

    options = model_options(source)
    if ref is not None and ref.checkpoint:
        return checkpoint_embedder(options, checkpoint_path(options.home, ref.checkpoint))
    return configured_embedder(options_for(options, ref))


def space_embedder(source: Settings | ModelOptions, ref: ModelRef | None) -> Embedder:
    """The embedder of a space; refuses one whose name this process cannot reproduce (a
    zero-shot space recorded under other settings), rather than mixing spaces."""
    embedder = embedder_for(source, ref)
    if ref is not None and embedder.name != ref.name:
        raise ValueError(
            f"the catalog's space is {ref.name!r} but these settings embed as "
            f"{embedder.name!r}: use the settings that space was made with"
        )
    return embedder


class ActiveEmbedder(PictureWords):
    """The active model, followed across swaps: every call checks the active-model record
    (one ``stat``) and moves to the new model when it changed, so a long-running process
    (API, UI, worker) embeds queries in the space the catalog's vectors are in. The picture's
    features and words come from the active space's frame encoder without building the model."""

    def __init__(self, source: Settings | ModelOptions) -> None:
        self.options = model_options(source)
        self.tags_per_segment = self.options.tags_per_segment
        self.tag_min_probability = self.options.tag_min_probability
        self._stamp: tuple[int, int] | None | bool = False  # False: never looked
        self._current: Embedder | None = None
        self._ref: tuple[tuple[int, int] | None | bool, ModelRef | None] = (False, None)
        self._lock = threading.Lock()

    def active_ref(self) -> ModelRef | None:
        """The active space as recorded for readers (read again when its file changed)."""
        stamp = self._file_stamp()
        if stamp != self._ref[0]:
            self._ref = (stamp, read_active(self.options.home))
        return self._ref[1]

    @property
    def frames(self) -> FrameEncoderLike:  # type: ignore[override]
        from videobert.embedder import picture_encoder

        return picture_encoder(options_for(self.options, self.active_ref()))

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = active_file(self.options.home).stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> Embedder:
        stamp = self._file_stamp()
        if self._current is not None and stamp == self._stamp:
            return self._current
        with self._lock:
            if self._current is None or stamp != self._stamp:
                self._ref = (False, None)  # read the record afresh with the model
                built = embedder_for(self.options, self.active_ref())
                if self._current is not None and built.name != self._current.name:
                    log.info("active embedder is now %s", built.name)
                self._current, self._stamp = built, stamp
            return self._current

    def refresh(self) -> Embedder:
        """Look at the record again even if its file looks unchanged."""
        with self._lock:
            self._stamp = False
        return self.current()

    @property
    def name(self) -> str:
        return self.current().name

    def embed_video(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        return self.current().embed_video(segments)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        return self.current().embed_text(texts)

    def align_scores(self, query: str, segments: Sequence[np.ndarray]) -> list[float]:
        return self.current().align_scores(query, segments)


def _recorded(options: ModelOptions) -> bool:
    """Whether readers must follow a recorded space (one of a vision-language model, or a
    trained one) rather than take the bridge as configured."""
    try:
        ref = read_active(options.home)
    except ValueError:
        return True
    return ref is not None and (ref.vision is not None or ref.checkpoint is not None)


def load_embedder(source: Settings | ModelOptions) -> Embedder:
    """The active embedder for these settings: the class-name bridge when
    ``embedder == "bridge"``, else the active VideoBERT (see ``ActiveEmbedder``).
    Weights load lazily, once per process."""
    from videobert.embedder import configured_embedder, picture_encoder

    if isinstance(source, Settings):
        settle_active_space(source)
    options = model_options(source)
    if options.embedder == "bridge" and options.vision_model is None and not _recorded(options):
        return configured_embedder(options)
    # A missing or broken frame or vision model is refused here, not at the first call.
    picture_encoder(options)
    return ActiveEmbedder(options)


# --------------------------------------------------------------------------- query processes


def active_space_name(options: ModelOptions) -> str | None:
    """The name of the space queries must be embedded in, read from files alone (no model):
    the active trained model's, else the saved zero-shot build's; None when neither is known
    without building a model (the bridge, or a zero-shot model never built on this home)."""
    if options.embedder == "bridge" and options.vision_model is None:
        return None
    ref = read_active(options.home)
    if ref is not None:
        return ref.name
    if options.vision_model is not None:
        return vision_space_name(options)
    return zero_shot_name(options)


def ensure_query_encoder(home: Path, embedder: Embedder) -> QueryEncoder | None:
    """The exported text tower of a VideoBERT or vision-language embedder's space, exported now
    if missing (once per model version: seconds with torch already loaded). None for others."""
    from videobert.embedder import VideoBertEmbedder
    from videobert.query_encoder import export_query_encoder
    from videobert.vision_language import VisionLanguageEmbedder

    if not isinstance(embedder, VideoBertEmbedder | VisionLanguageEmbedder):
        return None
    folder = query_encoder_folder(home, embedder.name)
    found = load_query_encoder(folder)
    if found is not None:
        return found
    try:
        export_query_encoder(embedder, folder)
    except Exception as exc:  # noqa: BLE001 - queries still work through the full model
        log.warning("could not export the query encoder of %s: %s", embedder.name, exc)
        return None
    return load_query_encoder(folder)


def prepare_query_encoder(settings: Settings) -> None:
    """After this process embedded with the active VideoBERT (an ingest, a swap), export its
    text tower if that was not done yet, so the next search process starts without torch."""
    embedder = load_embedder(settings)
    if isinstance(embedder, ActiveEmbedder):
        ensure_query_encoder(settings.home, embedder.current())


class QueryEmbedder(ActiveEmbedder):
    """The active model for a process that mostly embeds queries (search): ``embed_text``
    through the active space's exported text tower when there is one (no torch, no
    transformers: a cold ``vidsearch search`` answers in about a second), everything else
    (pictures, reranking, or a space without an export yet) through the full model, loaded at
    first use. Follows swaps like ``ActiveEmbedder``."""

    def __init__(self, source: Settings | ModelOptions) -> None:
        super().__init__(source)
        self._name_stamp: tuple[int, int] | None | bool = False
        self._name: str | None = None
        self._encoders: dict[str, QueryEncoder | None] = {}
        self._encoders_lock = threading.Lock()

    @property
    def name(self) -> str:
        stamp = self._file_stamp()
        if self._name is None or stamp != self._name_stamp:
            self._name = active_space_name(self.options) or self.current().name
            self._name_stamp = stamp
        return self._name

    def _encoder(self, name: str) -> QueryEncoder | None:
        with self._encoders_lock:
            if name not in self._encoders:
                found = load_query_encoder(query_encoder_folder(self.options.home, name))
                if found is None:
                    # The first query of a new model: export it for every later process.
                    found = ensure_query_encoder(self.options.home, self.current())
                self._encoders[name] = found if found is not None and found.name == name else None
            return self._encoders[name]

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        encoder = self._encoder(self.name)
        if encoder is None:
            return super().embed_text(texts)
        return encoder.embed_text(list(texts))


def load_query_embedder(source: Settings | ModelOptions) -> Embedder:
    """The embedder of a search process (see QueryEmbedder); the bridge as it is."""
    if isinstance(source, Settings):
        settle_active_space(source)
    options = model_options(source)
    if options.embedder == "bridge" and options.vision_model is None and not _recorded(options):
        return load_embedder(options)
    return QueryEmbedder(options)
