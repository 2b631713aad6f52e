"""The embedding interface the indexer and search use, its implementations, and the
per-process builders for them (each built once, in the registry's cache: videobert/registry.py).

- ``BridgeEmbedder``: the class-name bridge (frame class probabilities weighting MiniLM
  embeddings of the class names, no transformer): the baseline, ``VIDSEARCH_EMBEDDER=bridge``.
- ``VideoBertEmbedder``: VideoBERT's dual encoder (the joint transformer on text only and on
  video only, pooled and projected into one space), from a trained checkpoint or zero-shot from
  the shipped weights; its alignment head scores (query, segment) pairs for reranking.
- ``VisionLanguageEmbedder`` (videobert/vision_language.py): a CLIP / SigLIP model's own
  image and text towers, when ``VIDSEARCH_VISION_MODEL`` names one.

All of them read the picture's words the same way (``PictureWords``: videobert/picture_words.py).

Which model is active, and following it across swaps, is the model lifecycle's
(model_lifecycle/active.py). An embedder's ``name`` names its vector space: every setting or
weight that changes a vector changes the name, so the catalog never mixes vectors of two spaces
under one name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch

from videobert.bridge import bridge_vectors
from videobert.config import VideoBertConfig
from videobert.device import pick_device
from videobert.frames import FrameEncoder, FrameFeatures, imagenet_class_names
from videobert.kmeans import Codebook
from videobert.locations import text_backbone, zero_shot_folder, zero_shot_name_file
from videobert.model import VideoBert, tokenize
from videobert.options import ModelOptions
from videobert.picture_words import FrameEncoderLike, PictureWords, segment_probs
from videobert.registry import MODELS
from videobert.text import TextEncoder

if TYPE_CHECKING:
    from videobert.vision_language import (
        VisionLanguageEmbedder,
        VisionLanguageModel,
    )

log = logging.getLogger(__name__)


class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    def encode_frames(self, frames: np.ndarray) -> FrameFeatures: ...

    def embed_video(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        """One vector per segment from its clips' features, each (n_clips, 1280)."""
        ...

    def embed_text(self, texts: Sequence[str]) -> np.ndarray: ...

    def visual_tags(self, segments: Sequence[np.ndarray]) -> list[list[str]]:
        """What people are shown (moments, summaries, the web UI): hedged tags."""
        ...

    def caption_words(self, segments: Sequence[np.ndarray]) -> list[list[str]]:
        """What the text and lexical signals read of the picture: the classifier's top classes."""
        ...

    def class_beliefs(self, segments: Sequence[np.ndarray]) -> list[dict[int, float]]:
        """Each segment's likely ImageNet classes with their probabilities (the concept signal
        reads them, videobert/vocabulary.py)."""
        ...

    def align_scores(self, query: str, segments: Sequence[np.ndarray]) -> list[float]:
        """How well ``query`` matches each segment (its clips' features): higher is better,
        comparable within one call."""
        ...


# ---------------------------------------------------------------------- the class-name bridge

_class_vector_memo: dict[str, np.ndarray] = {}


class BridgeEmbedder(PictureWords):
    """Video vectors through the class-name bridge, text vectors from MiniLM: one 384-d space."""

    def __init__(
        self,
        *,
        frame_encoder: FrameEncoder,
        text_encoder: TextEncoder,
        cache_dir: Path | None,
        top_k: int,
        temperature: float,
        tags_per_segment: int,
        tag_min_probability: float,
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

    def embed_video(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        probs = segment_probs(self.frames, segments)
        if len(probs) == 0:
            return np.zeros((0, self.class_vectors().shape[1]), np.float32)
        return bridge_vectors(
            probs, self.class_vectors(), top_k=self.top_k, temperature=self.temperature
        )

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        return self.text.encode(list(texts))

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


class VideoBertEmbedder(PictureWords):
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
        tags_per_segment: int,
        tag_min_probability: float,
        alignment_trained: bool = False,
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
    def config(self) -> VideoBertConfig:
        return self.model.config

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


# ---------------------------------------------------------------------- building embedders

# Seconds each model took to become usable in this process (built, or loaded from disk).
LOAD_TIMES: dict[str, float] = {}
MAX_CACHED_MODELS = 3  # the active and the pending model, and one more
SHIPPED_FRAME_MODEL = "efficientnet-lite0"


def shared_encoders(options: ModelOptions) -> tuple[FrameEncoder, TextEncoder]:
    """The process-wide shipped frame and text encoders (weights load lazily, once)."""
    if options.frame_model != SHIPPED_FRAME_MODEL:
        raise ValueError(
            f"frame model {options.frame_model!r} is not available offline; the shipped one is "
            f"{SHIPPED_FRAME_MODEL!r} (a CLIP or SigLIP checkpoint goes in VIDSEARCH_VISION_MODEL)"
        )
    key = (options.device, options.torch_threads, options.text_model, options.frame_batch_size)

    def build() -> tuple[FrameEncoder, TextEncoder]:
        device = pick_device(options.device, options.torch_threads)
        return (
            FrameEncoder(device, batch_size=options.frame_batch_size),
            TextEncoder(options.text_model, device),
        )

    return MODELS.get("shipped encoders", key, build)


def vision_language_model(options: ModelOptions) -> VisionLanguageModel:
    """The process-wide model VIDSEARCH_VISION_MODEL names (located now, loaded at first use);
    raises ModelMissing when it is not on disk or broken."""
    from videobert.vision_language import VisionLanguageModel

    if options.vision_model is None:
        raise ValueError("no vision-language model is set (VIDSEARCH_VISION_MODEL)")
    key = (options.vision_model, options.device, options.torch_threads, options.frame_batch_size)

    def build() -> VisionLanguageModel:
        device = pick_device(options.device, options.torch_threads)
        model = VisionLanguageModel(options.vision_model or "", device, options.frame_batch_size)
        model.locate()  # refused here, at start-up, not at the first frame
        return model

    return MODELS.get("vision-language models", key, build)


def picture_encoder(options: ModelOptions) -> FrameEncoderLike:
    """What reads the pictures in the configured space: the vision-language model's image
    tower and zero-shot labels when one is set, else the shipped EfficientNet-Lite0."""
    if options.vision_model is None:
        return shared_encoders(options)[0]
    from videobert.locations import vision_space_name
    from videobert.vision_language import ZeroShotLabels

    vlm = vision_language_model(options)

    def build() -> ZeroShotLabels:
        # The space's name hashes the checkpoint's files: once per model, not per frame batch.
        name = vision_space_name(options)
        assert name is not None  # located by vision_language_model
        return ZeroShotLabels(vlm, options.cache_dir, name)

    return MODELS.get("zero-shot labels", (id(vlm), options.cache_dir), build)


def bridge_embedder(options: ModelOptions) -> BridgeEmbedder:
    frames, text = shared_encoders(options)
    return BridgeEmbedder(
        frame_encoder=frames,
        text_encoder=text,
        cache_dir=options.cache_dir,
        top_k=options.bridge_top_k,
        temperature=options.bridge_temperature,
        tags_per_segment=options.tags_per_segment,
        tag_min_probability=options.tag_min_probability,
    )


def zero_shot_embedder(options: ModelOptions) -> VideoBertEmbedder:
    """The untrained VideoBERT of these options, built once per model version and saved under
    VIDSEARCH_HOME/models/zero-shot/ (safetensors); later processes load the saved build (a
    fraction of the build's time) and get the same vectors and the same space name."""
    frames, _ = shared_encoders(options)
    key = (
        "zero-shot",
        str(text_backbone(options)),
        options.device,
        options.videobert_temperature,
        options.videobert_top_k,
        options.video_input,
        options.tags_per_segment,
        options.tag_min_probability,
    )

    def build() -> VideoBertEmbedder:
        folder = zero_shot_folder(options)
        if (folder / "videobert.json").is_file():
            try:
                return _load_saved(options, folder)
            except Exception as exc:  # noqa: BLE001 - damaged in any way: never trusted, rebuilt
                log.warning("rebuilding the zero-shot model: the saved one is unusable: %s", exc)
        return _build_zero_shot(options, folder)

    embedder = MODELS.get("videobert", key, build, limit=MAX_CACHED_MODELS)
    _record_name(options, embedder.name)
    return embedder


def _record_name(options: ModelOptions, name: str) -> None:
    """Note this home's zero-shot space name (see locations.zero_shot_name_file)."""
    target = zero_shot_name_file(options)
    try:
        if target.is_file() and target.read_text(encoding="utf-8").strip() == name:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(name + "\n", encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:  # a read-only home: search then builds the model to learn the name
        log.warning("could not record the zero-shot model's name: %s", exc)


def _load_saved(options: ModelOptions, folder: Path) -> VideoBertEmbedder:
    from videobert.checkpoint import checkpoint_name, load_checkpoint

    frames, _ = shared_encoders(options)
    started = time.perf_counter()
    loaded = load_checkpoint(folder, device=frames.device)
    embedder = VideoBertEmbedder(
        model=loaded.model,
        tokenizer=loaded.load_tokenizer(),
        codebook=loaded.codebook,
        frame_encoder=frames,
        name=checkpoint_name(folder),
        video_input=loaded.model.config.video_input,
        tags_per_segment=options.tags_per_segment,
        tag_min_probability=options.tag_min_probability,
    )
    LOAD_TIMES[embedder.name] = time.perf_counter() - started
    return embedder


def _build_zero_shot(options: ModelOptions, folder: Path) -> VideoBertEmbedder:
    from videobert.checkpoint import save_checkpoint
    from videobert.zero_shot import (
        build_zero_shot,
        shipped_parts,
        zero_shot_config,
        zero_shot_digest,
    )

    started = time.perf_counter()
    frames, _ = shared_encoders(options)
    backbone = text_backbone(options)
    parts = shipped_parts(frames, backbone)
    config = zero_shot_config(
        backbone,
        temperature=options.videobert_temperature,
        top_k=options.videobert_top_k,
        video_input=options.video_input,
    )
    model = build_zero_shot(parts, config).to(frames.device)
    digest = zero_shot_digest(config, parts, parts.codebook)
    embedder = VideoBertEmbedder(
        model=model,
        tokenizer=parts.tokenizer,
        codebook=parts.codebook,
        frame_encoder=frames,
        name=f"videobert:zero-shot-{digest}:{config.video_input}",
        video_input=config.video_input,
        tags_per_segment=options.tags_per_segment,
        tag_min_probability=options.tag_min_probability,
    )
    built = time.perf_counter() - started
    LOAD_TIMES[embedder.name] = built
    try:
        save_checkpoint(
            folder,
            model,
            codebook=parts.codebook,
            tokenizer=parts.tokenizer,
            extra={"space_name": embedder.name, "built_seconds": round(built, 2)},
        )
    except OSError as exc:  # a read-only home still searches; it only builds every time
        log.warning("could not save the zero-shot model in %s: %s", folder, exc)
    return embedder


# Binary cross-entropy of the alignment head at chance is ln 2 = 0.69; below this, the head
# has learnt something worth ranking by.
ALIGNMENT_LEARNT_LOSS = 0.5


def alignment_learnt(step: int, config: VideoBertConfig, extra: dict[str, Any]) -> bool:
    """Whether a checkpoint's alignment head is better than chance, by its last training loss
    (on the dev set's few minutes of CPU training it stays at chance: 0.69)."""
    loss = extra.get("losses", {}).get("alignment")
    return (
        step > 0
        and config.alignment_weight > 0
        and loss is not None
        and loss < ALIGNMENT_LEARNT_LOSS
    )


def checkpoint_embedder(options: ModelOptions, path: str | Path) -> VideoBertEmbedder:
    """A trained VideoBERT from its checkpoint folder (built once per process)."""
    from videobert.checkpoint import checkpoint_name, load_checkpoint, read_meta

    frames, _ = shared_encoders(options)
    path = Path(path)
    checkpoint_id = str(read_meta(path)["checkpoint_id"])
    key = ("checkpoint", checkpoint_id, str(path), options.device)

    def build() -> VideoBertEmbedder:
        loaded = load_checkpoint(path, device=frames.device)
        config = loaded.model.config
        return VideoBertEmbedder(
            model=loaded.model,
            tokenizer=loaded.load_tokenizer(),
            codebook=loaded.codebook,
            frame_encoder=frames,
            name=checkpoint_name(path),
            video_input=config.video_input,
            alignment_trained=alignment_learnt(loaded.step, config, loaded.extra),
            tags_per_segment=options.tags_per_segment,
            tag_min_probability=options.tag_min_probability,
        )

    return MODELS.get("videobert", key, build, limit=MAX_CACHED_MODELS)


def vision_language_embedder(options: ModelOptions) -> VisionLanguageEmbedder:
    """The dual encoder of the vision-language model VIDSEARCH_VISION_MODEL names."""
    from videobert.vision_language import VisionLanguageEmbedder

    vlm = vision_language_model(options)
    key = (id(vlm), options.tags_per_segment, options.tag_min_probability)
    return MODELS.get(
        "vision-language embedders",
        key,
        lambda: VisionLanguageEmbedder(
            vlm,
            picture_encoder(options),  # type: ignore[arg-type]
            tags_per_segment=options.tags_per_segment,
            tag_min_probability=options.tag_min_probability,
        ),
    )


def configured_embedder(options: ModelOptions) -> Embedder:
    """What the options configure before any training: a vision-language model when one is
    set, else the bridge or zero-shot VideoBERT."""
    if options.vision_model is not None:
        return vision_language_embedder(options)
    if options.embedder == "bridge":
        return bridge_embedder(options)
    return zero_shot_embedder(options)
