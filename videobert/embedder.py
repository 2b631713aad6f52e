"""The embedding interface the indexer and search use, and its zero-shot implementation.

The VideoBERT model fills the same interface: ``embed_text``, ``embed_video`` and ``visual_tags``
keep their shapes, so the indexer and search do not change when it lands.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from videobert.bridge import bridge_vectors, top_tags
from videobert.device import pick_device
from videobert.frames import FrameEncoder, FrameFeatures, imagenet_class_names
from videobert.text import TextEncoder


class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    def encode_frames(self, frames: np.ndarray) -> FrameFeatures: ...

    def embed_video(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        """One vector per segment from its clips' features, each (n_clips, 1280)."""
        ...

    def embed_text(self, texts: Sequence[str]) -> np.ndarray: ...

    def visual_tags(self, segments: Sequence[np.ndarray]) -> list[list[str]]: ...


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

    def _segment_probs(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        if not segments:
            return np.zeros((0, 1000), np.float32)
        # A segment's picture is the average of its clips' class beliefs.
        return np.stack([self.frames.class_probs(np.atleast_2d(s)).mean(axis=0) for s in segments])

    def embed_video(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        probs = self._segment_probs(segments)
        if len(probs) == 0:
            return np.zeros((0, self.class_vectors().shape[1]), np.float32)
        return bridge_vectors(
            probs, self.class_vectors(), top_k=self.top_k, temperature=self.temperature
        )

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        return self.text.encode(list(texts))

    def visual_tags(self, segments: Sequence[np.ndarray]) -> list[list[str]]:
        names = imagenet_class_names()
        return [
            top_tags(
                p, names, limit=self.tags_per_segment, min_probability=self.tag_min_probability
            )
            for p in self._segment_probs(segments)
        ]


_encoders: dict[tuple, tuple[FrameEncoder, TextEncoder]] = {}
_encoders_lock = threading.Lock()


def load_embedder(settings) -> ZeroShotEmbedder:  # type: ignore[no-untyped-def]
    """An embedder for these settings over the process-wide encoders (weights load once, lazily)."""
    if settings.frame_model != "efficientnet-lite0":
        raise ValueError(
            f"frame model {settings.frame_model!r} is not available offline; "
            "the shipped one is 'efficientnet-lite0'"
        )
    key = (settings.device, settings.torch_threads, settings.text_model, settings.frame_batch_size)
    with _encoders_lock:
        if key not in _encoders:
            device = pick_device(settings.device, settings.torch_threads)
            _encoders[key] = (
                FrameEncoder(device, batch_size=settings.frame_batch_size),
                TextEncoder(settings.text_model, device),
            )
        frames, text = _encoders[key]
    return ZeroShotEmbedder(
        frame_encoder=frames,
        text_encoder=text,
        cache_dir=settings.cache_dir,
        top_k=settings.bridge_top_k,
        temperature=settings.bridge_temperature,
        tags_per_segment=settings.tags_per_segment,
        tag_min_probability=settings.tag_min_probability,
    )
