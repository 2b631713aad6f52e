"""The embedding interface the indexer and search use, its two implementations, and which one
is active.

- ``ZeroShotEmbedder``: the class-name bridge (frame class probabilities weighting MiniLM
  embeddings of the class names, no transformer): the baseline, ``VIDSEARCH_EMBEDDER=bridge``.
- ``VideoBertEmbedder``: VideoBERT's dual encoder (the joint transformer on text only and on
  video only, pooled and projected into one space), from a trained checkpoint or zero-shot from
  the shipped weights; its alignment head scores (query, segment) pairs for reranking.
- ``load_embedder(settings)``: the bridge, or an ``ActiveEmbedder`` that follows the active
  VideoBERT model named in ``VIDSEARCH_HOME/models/active.json`` (none there: zero-shot). The
  indexer rewrites that file when a re-embedded library is swapped in (indexer/reembed.py);
  the catalog holds the authoritative record, this file is what readers follow.

An embedder's ``name`` names its vector space: every setting or weight that changes a vector
changes the name, so the catalog never mixes vectors of two spaces under one name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from videobert.bridge import bridge_vectors, top_tags
from videobert.device import pick_device
from videobert.frames import FrameEncoder, FrameFeatures, imagenet_class_names
from videobert.kmeans import Codebook
from videobert.model import VideoBert, tokenize
from videobert.text import TextEncoder, default_text_model_path

log = logging.getLogger(__name__)

ACTIVE_FILE = Path("models") / "active.json"  # under VIDSEARCH_HOME
CHECKPOINTS_DIR = Path("models") / "videobert"  # under VIDSEARCH_HOME


class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    def encode_frames(self, frames: np.ndarray) -> FrameFeatures: ...

    def embed_video(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        """One vector per segment from its clips' features, each (n_clips, 1280)."""
        ...

    def embed_text(self, texts: Sequence[str]) -> np.ndarray: ...

    def visual_tags(self, segments: Sequence[np.ndarray]) -> list[list[str]]: ...

    def align_scores(self, query: str, segments: Sequence[np.ndarray]) -> list[float]:
        """How well ``query`` matches each segment (its clips' features): higher is better,
        comparable within one call."""
        ...


def _segment_probs(frames: FrameEncoder, segments: Sequence[np.ndarray]) -> np.ndarray:
    if not segments:
        return np.zeros((0, 1000), np.float32)
    # A segment's picture is the average of its clips' class beliefs.
    return np.stack([frames.class_probs(np.atleast_2d(s)).mean(axis=0) for s in segments])


def _tags(
    frames: FrameEncoder, segments: Sequence[np.ndarray], *, limit: int, min_probability: float
) -> list[list[str]]:
    names = imagenet_class_names()
    return [
        top_tags(p, names, limit=limit, min_probability=min_probability)
        for p in _segment_probs(frames, segments)
    ]


# ---------------------------------------------------------------------- the class-name bridge

_class_vector_memo: dict[str, np.ndarray] = {}


class ZeroShotEmbedder:
    """Video vectors through the class-name bridge, text vectors from MiniLM: one 384-d space."""

    def __init__(
        self,
        *,
        frame_encoder: FrameEncoder,
        text_encoder: TextEncoder,
        cache_dir: Path | None,
        top_k: int = 5,
        temperature: float = 2.0,
        tags_per_segment: int = 3,
        tag_min_probability: float = 0.08,
    ) -> None:
        self.frames = frame_encoder
        self.text = text_encoder
        self.cache_dir = cache_dir
        self.top_k = top_k
        self.temperature = temperature
        self.tags_per_segment = tags_per_segment
        self.tag_min_probability = tag_min_probability
        self._class_vectors: np.ndarray | None = _class_vector_memo.get(
            str(text_encoder.model_path)
        )
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"bridge:{self.frames.name}+{self.text.name}:k{self.top_k}:t{self.temperature:g}"

    def class_vectors(self) -> np.ndarray:
        """Text embeddings of the 1000 class names, computed once and cached on disk."""
        with self._lock:
            if self._class_vectors is None:
                names = list(imagenet_class_names())
                key = hashlib.sha256(
                    ("\n".join(names) + str(self.text.model_path)).encode()
                ).hexdigest()[:16]
                path = self.cache_dir / f"class-vectors-{key}.npy" if self.cache_dir else None
                if path is not None and path.is_file():
                    self._class_vectors = np.load(path)
                else:
                    self._class_vectors = self.text.encode([f"a photo of {n}" for n in names])
                    if path is not None:
                        path.parent.mkdir(parents=True, exist_ok=True)
                        tmp = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp.npy")
                        np.save(tmp, self._class_vectors)
                        tmp.replace(path)
                _class_vector_memo[str(self.text.model_path)] = self._class_vectors
            return self._class_vectors

    def encode_frames(self, frames: np.ndarray) -> FrameFeatures:
        return self.frames.encode(frames)

    def embed_video(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        probs = _segment_probs(self.frames, segments)
        if len(probs) == 0:
            return np.zeros((0, self.class_vectors().shape[1]), np.float32)
        return bridge_vectors(
            probs, self.class_vectors(), top_k=self.top_k, temperature=self.temperature
        )

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        return self.text.encode(list(texts))

    def visual_tags(self, segments: Sequence[np.ndarray]) -> list[list[str]]:
        return _tags(
            self.frames,
            segments,
            limit=self.tags_per_segment,
            min_probability=self.tag_min_probability,
        )

    def align_scores(self, query: str, segments: Sequence[np.ndarray]) -> list[float]:
        """The bridge has no cross-encoder: the cosine of the query and each segment's vector."""
        if not segments:
            return []
        return [float(s) for s in self.embed_video(segments) @ self.embed_text([query])[0]]


# ---------------------------------------------------------------------- VideoBERT


def fit_clips(features: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` clips, evenly spread over the segment (the model's visual length)."""
    x = np.atleast_2d(np.asarray(features, dtype=np.float32))
    if len(x) == 0:
        raise ValueError("a segment needs at least one clip")
    if len(x) <= limit:
        return x
    return x[np.linspace(0, len(x) - 1, limit).round().astype(np.int64)]


class VideoBertEmbedder:
    """Vectors from VideoBERT's dual encoder; ``align_scores`` from its cross-encoder.

    ``video_input`` chooses what the video side reads: each clip's own features
    ("continuous") or its visual word in ``codebook`` ("tokens"). ``alignment_trained`` says
    whether the alignment head has learnt anything: an untrained model's head is random, so
    ``align_scores`` then falls back to the dual encoder's cosine.
    """

    def __init__(
        self,
        *,
        model: VideoBert,
        tokenizer: Any,
        codebook: Codebook | None,
        frame_encoder: FrameEncoder,
        name: str,
        video_input: str,
        alignment_trained: bool = False,
        tags_per_segment: int = 3,
        tag_min_probability: float = 0.08,
        batch_size: int = 64,
    ) -> None:
        if video_input == "tokens" and codebook is None:
            raise ValueError("video input 'tokens' needs a codebook")
        if codebook is not None and codebook.num_words != model.num_visual_words:
            raise ValueError(
                f"codebook has {codebook.num_words} words, the model {model.num_visual_words}"
            )
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.codebook = codebook
        self.frames = frame_encoder
        self._name = name
        self.video_input = video_input
        self.alignment_trained = alignment_trained
        self.tags_per_segment = tags_per_segment
        self.tag_min_probability = tag_min_probability
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        return self._name

    @property
    def config(self):  # type: ignore[no-untyped-def]
        return self.model.config

    def encode_frames(self, frames: np.ndarray) -> FrameFeatures:
        return self.frames.encode(frames)

    def visual_tags(self, segments: Sequence[np.ndarray]) -> list[list[str]]:
        return _tags(
            self.frames,
            segments,
            limit=self.tags_per_segment,
            min_probability=self.tag_min_probability,
        )

    # --- model inputs ----------------------------------------------------------------------
    def _video(self, segments: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Segments -> (video input, mask): features (batch, clips, dim) or word ids."""
        clips = [fit_clips(s, self.model.config.max_visual_tokens) for s in segments]
        width = max(len(c) for c in clips)
        mask = torch.zeros(len(clips), width, dtype=torch.long)
        for i, c in enumerate(clips):
            mask[i, : len(c)] = 1
        if self.video_input == "tokens":
            assert self.codebook is not None
            words = self.codebook.assign(np.concatenate(clips), exact=True)
            ids = torch.zeros(len(clips), width, dtype=torch.long)
            at = 0
            for i, c in enumerate(clips):
                ids[i, : len(c)] = torch.from_numpy(words[at : at + len(c)])
                at += len(c)
            return ids, mask
        feats = torch.zeros(len(clips), width, clips[0].shape[1])
        for i, c in enumerate(clips):
            feats[i, : len(c)] = torch.from_numpy(c)
        return feats, mask

    def _text(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return tokenize(self.tokenizer, list(texts), self.model.config.max_text_tokens)

    # --- vectors ---------------------------------------------------------------------------
    @torch.inference_mode()
    def embed_video(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        dim = self.model.projection.out_features
        out = [np.zeros((0, dim), np.float32)]
        for start in range(0, len(segments), self.batch_size):
            video, mask = self._video(segments[start : start + self.batch_size])
            out.append(self.model.embed_video(video, mask).float().cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    @torch.inference_mode()
    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        dim = self.model.projection.out_features
        out = [np.zeros((0, dim), np.float32)]
        texts = list(texts)
        for start in range(0, len(texts), self.batch_size):
            ids, mask = self._text(texts[start : start + self.batch_size])
            out.append(self.model.embed_text(ids, mask).float().cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    @torch.inference_mode()
    def align_scores(self, query: str, segments: Sequence[np.ndarray]) -> list[float]:
        """The probability that ``query`` and each segment belong together, from the alignment
        head on ``[CLS] query [>] clips [SEP]``; an untrained head gives the dual encoder's
        cosine instead (see the class docstring)."""
        if not segments:
            return []
        if not self.alignment_trained:
            return [float(s) for s in self.embed_video(segments) @ self.embed_text([query])[0]]
        scores: list[float] = []
        ids, mask = self._text([query])
        for start in range(0, len(segments), self.batch_size):
            video, vmask = self._video(segments[start : start + self.batch_size])
            n = video.shape[0]
            logits = self.model.align_logits(
                ids.expand(n, -1), mask.expand(n, -1), video, vmask
            )  # (n,)
            scores.extend(float(p) for p in torch.sigmoid(logits.float()).cpu())
        return scores


# ---------------------------------------------------------------------- which model is active


@dataclass(frozen=True)
class ModelRef:
    """A vector space: its embedder's name and, for a trained VideoBERT, its checkpoint folder
    (relative to VIDSEARCH_HOME where it lies under it)."""

    name: str
    checkpoint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "checkpoint": self.checkpoint}


def checkpoint_path(settings: Any, checkpoint: str) -> Path:
    path = Path(checkpoint)
    return path if path.is_absolute() else Path(settings.home) / path


def relative_to_home(settings: Any, path: Path) -> str:
    """How a checkpoint is recorded: relative to VIDSEARCH_HOME when under it (the home may be
    mounted elsewhere on another machine), else absolute."""
    try:
        return str(Path(path).resolve().relative_to(Path(settings.home).resolve()))
    except ValueError:
        return str(Path(path).resolve())


def active_file(settings: Any) -> Path:
    return Path(settings.home) / ACTIVE_FILE


def read_active(settings: Any) -> ModelRef | None:
    """The active trained VideoBERT recorded for readers, or None (zero-shot)."""
    path = active_file(settings)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable active-model record: {exc}") from exc
    if not raw or not raw.get("checkpoint"):
        return None
    return ModelRef(name=str(raw["name"]), checkpoint=str(raw["checkpoint"]))


def write_active(settings: Any, ref: ModelRef | None) -> None:
    """Record the active model for readers (atomically: a reader sees the old or the new)."""
    path = active_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(ref.to_json() if ref else {}, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------------- building embedders

_encoders: dict[tuple[Any, ...], tuple[FrameEncoder, TextEncoder]] = {}
_embedders: dict[tuple[Any, ...], Any] = {}
_build_lock = threading.RLock()
MAX_CACHED_MODELS = 3  # the active and the pending model, and one more


def _shared_encoders(settings: Any) -> tuple[FrameEncoder, TextEncoder]:
    """The process-wide frame and text encoders for these settings (weights load lazily, once)."""
    if settings.frame_model != "efficientnet-lite0":
        raise ValueError(
            f"frame model {settings.frame_model!r} is not available offline; "
            "the shipped one is 'efficientnet-lite0'"
        )
    key = (settings.device, settings.torch_threads, settings.text_model, settings.frame_batch_size)
    with _build_lock:
        if key not in _encoders:
            device = pick_device(settings.device, settings.torch_threads)
            _encoders[key] = (
                FrameEncoder(device, batch_size=settings.frame_batch_size),
                TextEncoder(settings.text_model, device),
            )
        return _encoders[key]


def bridge_embedder(settings: Any) -> ZeroShotEmbedder:
    frames, text = _shared_encoders(settings)
    return ZeroShotEmbedder(
        frame_encoder=frames,
        text_encoder=text,
        cache_dir=settings.cache_dir,
        top_k=settings.bridge_top_k,
        temperature=settings.bridge_temperature,
        tags_per_segment=settings.tags_per_segment,
        tag_min_probability=settings.tag_min_probability,
    )


def _remember(key: tuple[Any, ...], embedder: Any) -> Any:
    _embedders[key] = embedder
    while len(_embedders) > MAX_CACHED_MODELS:
        _embedders.pop(next(iter(_embedders)))  # the oldest built
    return embedder


def zero_shot_embedder(settings: Any) -> VideoBertEmbedder:
    """The untrained VideoBERT of these settings (built once per process)."""
    from videobert.zero_shot import (
        build_zero_shot,
        shipped_parts,
        zero_shot_config,
        zero_shot_digest,
    )

    frames, _ = _shared_encoders(settings)
    backbone = Path(settings.text_model) if settings.text_model else default_text_model_path()
    key = (
        "zero-shot",
        str(backbone),
        settings.device,
        settings.videobert_temperature,
        settings.videobert_top_k,
        settings.video_input,
        settings.tags_per_segment,
        settings.tag_min_probability,
    )
    with _build_lock:
        if key in _embedders:
            return _embedders[key]  # type: ignore[no-any-return]
        parts = shipped_parts(frames, backbone)
        config = zero_shot_config(
            backbone,
            temperature=settings.videobert_temperature,
            top_k=settings.videobert_top_k,
            video_input=settings.video_input,
        )
        model = build_zero_shot(parts, config).to(frames.device)
        digest = zero_shot_digest(config, parts, parts.codebook)
        return _remember(  # type: ignore[no-any-return]
            key,
            VideoBertEmbedder(
                model=model,
                tokenizer=parts.tokenizer,
                codebook=parts.codebook,
                frame_encoder=frames,
                name=f"videobert:zero-shot-{digest}:{config.video_input}",
                video_input=config.video_input,
                tags_per_segment=settings.tags_per_segment,
                tag_min_probability=settings.tag_min_probability,
            ),
        )


# Binary cross-entropy of the alignment head at chance is ln 2 = 0.69; below this, the head
# has learnt something worth ranking by.
ALIGNMENT_LEARNT_LOSS = 0.5


def alignment_learnt(step: int, config: Any, extra: dict[str, Any]) -> bool:
    """Whether a checkpoint's alignment head is better than chance, by its last training loss
    (on the dev set's few minutes of CPU training it stays at chance: 0.69)."""
    loss = extra.get("losses", {}).get("alignment")
    return (
        step > 0
        and config.alignment_weight > 0
        and loss is not None
        and loss < ALIGNMENT_LEARNT_LOSS
    )


def checkpoint_name(path: str | Path) -> str:
    """The space a checkpoint embeds into, read from its metadata (no weights loaded)."""
    from videobert.checkpoint import read_meta

    meta = read_meta(path)
    return f"videobert:{meta['checkpoint_id']}:{meta['config']['video_input']}"


def checkpoint_embedder(settings: Any, checkpoint: str | Path) -> VideoBertEmbedder:
    """A trained VideoBERT from its checkpoint folder (built once per process)."""
    from videobert.checkpoint import load_checkpoint, read_meta

    frames, _ = _shared_encoders(settings)
    path = checkpoint_path(settings, str(checkpoint))
    checkpoint_id = str(read_meta(path)["checkpoint_id"])
    key = ("checkpoint", checkpoint_id, str(path), settings.device)
    with _build_lock:
        if key in _embedders:
            return _embedders[key]  # type: ignore[no-any-return]
        loaded = load_checkpoint(path, device=frames.device)
        config = loaded.model.config
        return _remember(  # type: ignore[no-any-return]
            key,
            VideoBertEmbedder(
                model=loaded.model,
                tokenizer=loaded.load_tokenizer(),
                codebook=loaded.codebook,
                frame_encoder=frames,
                name=checkpoint_name(path),
                video_input=config.video_input,
                alignment_trained=alignment_learnt(loaded.step, config, loaded.extra),
                tags_per_segment=settings.tags_per_segment,
                tag_min_probability=settings.tag_min_probability,
            ),
        )


def embedder_for(settings: Any, ref: ModelRef | None) -> Embedder:
    """The embedder of a recorded space: its checkpoint, else what the settings configure."""
    if ref is not None and ref.checkpoint:
        return checkpoint_embedder(settings, ref.checkpoint)
    if settings.embedder == "bridge":
        return bridge_embedder(settings)
    return zero_shot_embedder(settings)


class ActiveEmbedder:
    """The active VideoBERT, followed across swaps: every call checks the active-model record
    (one ``stat``) and moves to the new model when it changed, so a long-running process
    (API, UI, worker) embeds queries in the space the catalog's vectors are in."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self._stamp: tuple[int, int] | None | bool = False  # False: never looked
        self._current: VideoBertEmbedder | None = None
        self._lock = threading.Lock()

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = active_file(self.settings).stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> VideoBertEmbedder:
        stamp = self._file_stamp()
        if self._current is not None and stamp == self._stamp:
            return self._current
        with self._lock:
            if self._current is None or stamp != self._stamp:
                ref = read_active(self.settings)
                built = embedder_for(self.settings, ref)
                assert isinstance(built, VideoBertEmbedder)
                if self._current is not None and built.name != self._current.name:
                    log.info("active embedder is now %s", built.name)
                self._current, self._stamp = built, stamp
            return self._current

    def refresh(self) -> VideoBertEmbedder:
        """Look at the record again even if its file looks unchanged."""
        with self._lock:
            self._stamp = False
        return self.current()

    @property
    def name(self) -> str:
        return self.current().name

    def encode_frames(self, frames: np.ndarray) -> FrameFeatures:
        return _shared_encoders(self.settings)[0].encode(frames)

    def embed_video(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        return self.current().embed_video(segments)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        return self.current().embed_text(texts)

    def visual_tags(self, segments: Sequence[np.ndarray]) -> list[list[str]]:
        # The frame encoder's classes: the same in every space, no transformer needed.
        return _tags(
            _shared_encoders(self.settings)[0],
            segments,
            limit=self.settings.tags_per_segment,
            min_probability=self.settings.tag_min_probability,
        )

    def align_scores(self, query: str, segments: Sequence[np.ndarray]) -> list[float]:
        return self.current().align_scores(query, segments)


def load_embedder(settings) -> Embedder:  # type: ignore[no-untyped-def]
    """The active embedder for these settings: the class-name bridge when
    ``settings.embedder == "bridge"``, else the active VideoBERT (see ``ActiveEmbedder``).
    Weights load lazily, once per process."""
    if settings.embedder == "bridge":
        return bridge_embedder(settings)
    _shared_encoders(settings)  # a bad frame model is refused here, not at the first call
    return ActiveEmbedder(settings)
