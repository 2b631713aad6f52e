"""VideoBERT's settings: one validated dataclass that checkpoints carry (see VIDEOBERT.md)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.settings import Settings

VIDEO_INPUTS = ("continuous", "tokens")


@dataclass(frozen=True)
class VideoBertConfig:
    """Everything that shapes the model and its training objectives.

    The transformer comes from ``backbone`` (a folder holding a BERT checkpoint, loaded offline)
    or, when it is None, is a fresh random BERT of the size given by ``hidden_size`` ...
    ``max_position_embeddings`` (defaults: all-MiniLM-L6-v2's shape; tests use tiny sizes).
    A backbone's own config wins over those sizes. Special token ids default to BERT's
    uncased WordPiece vocabulary, which all-MiniLM-L6-v2 uses.
    """

    # --- transformer ---
    backbone: str | None = None
    hidden_size: int = 384
    num_layers: int = 6
    num_heads: int = 12
    intermediate_size: int = 1536
    text_vocab_size: int = 30522
    max_position_embeddings: int = 512
    pad_token_id: int = 0
    cls_token_id: int = 101
    sep_token_id: int = 102
    mask_token_id: int = 103

    # --- video side ---
    feature_dim: int = 1280  # EfficientNet-Lite0 pooled features
    num_classes: int = 1000  # the frame encoder's classes, for the zero-shot class-name mix
    # Paper: k = 12, depth = 4 (20,736 words) on 312K videos. A personal library is far
    # smaller: 12**2 = 144 words keeps each word's clips alike.
    kmeans_k: int = 12
    kmeans_depth: int = 2
    # "continuous": each clip's own features are the video input (CBT); "tokens": the clip's
    # visual word (the paper). The model accepts both; this picks what embed/train feed it.
    video_input: str = "continuous"
    max_text_tokens: int = 128  # all-MiniLM-L6-v2 was trained on up to 128 word pieces
    max_visual_tokens: int = 32

    # --- heads ---
    # Retrieval embedding size; None means hidden_size, where the projection starts as the
    # identity so an untrained model embeds text exactly as its backbone does.
    projection_dim: int | None = None

    # --- objectives ---
    mask_probability: float = 0.15
    text_mlm_weight: float = 1.0
    video_mlm_weight: float = 1.0
    alignment_weight: float = 1.0
    contrastive_weight: float = 1.0
    contrastive_temperature: float = 0.05

    # --- zero-shot class-name mix (same meaning as the bridge's settings) ---
    # One default per knob: VIDSEARCH_VIDEOBERT_TEMPERATURE / _TOP_K's, read from the settings.
    zero_shot_temperature: float = Settings.model_fields["videobert_temperature"].default
    zero_shot_top_k: int = Settings.model_fields["videobert_top_k"].default

    def __post_init__(self) -> None:
        positive = {
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "intermediate_size": self.intermediate_size,
            "text_vocab_size": self.text_vocab_size,
            "max_position_embeddings": self.max_position_embeddings,
            "feature_dim": self.feature_dim,
            "kmeans_k": self.kmeans_k,
            "kmeans_depth": self.kmeans_depth,
            "max_text_tokens": self.max_text_tokens,
            "max_visual_tokens": self.max_visual_tokens,
            "zero_shot_top_k": self.zero_shot_top_k,
        }
        for name, value in positive.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.num_classes < 0:
            raise ValueError(f"num_classes must be 0 or more, got {self.num_classes}")
        if self.kmeans_k < 2:
            raise ValueError(f"kmeans_k must be at least 2, got {self.kmeans_k}")
        if self.backbone is None and self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden size {self.hidden_size} is not a multiple of heads {self.num_heads}"
            )
        if self.projection_dim is not None and self.projection_dim < 1:
            raise ValueError(f"projection_dim must be positive or None, got {self.projection_dim}")
        if self.video_input not in VIDEO_INPUTS:
            raise ValueError(f"video_input must be one of {VIDEO_INPUTS}, got {self.video_input!r}")
        # [CLS] text [>] video [SEP]: three special positions besides the two sides.
        longest = self.max_text_tokens + self.max_visual_tokens + 3
        if self.backbone is None and longest > self.max_position_embeddings:
            raise ValueError(
                f"max_text_tokens {self.max_text_tokens} + max_visual_tokens "
                f"{self.max_visual_tokens} + 3 = {longest} exceeds max_position_embeddings "
                f"{self.max_position_embeddings}"
            )
        specials = {
            "pad_token_id": self.pad_token_id,
            "cls_token_id": self.cls_token_id,
            "sep_token_id": self.sep_token_id,
            "mask_token_id": self.mask_token_id,
        }
        for name, value in specials.items():
            if value < 0 or (self.backbone is None and value >= self.text_vocab_size):
                raise ValueError(
                    f"{name} {value} is outside the text vocabulary of {self.text_vocab_size}"
                )
        if len(set(specials.values())) != len(specials):
            raise ValueError(f"special token ids must differ, got {specials}")
        if not 0.0 < self.mask_probability < 1.0:
            raise ValueError(f"mask_probability must be in (0, 1), got {self.mask_probability}")
        weights: dict[str, float] = {
            "text_mlm_weight": self.text_mlm_weight,
            "video_mlm_weight": self.video_mlm_weight,
            "alignment_weight": self.alignment_weight,
            "contrastive_weight": self.contrastive_weight,
        }
        for name, weight in weights.items():
            if weight < 0:
                raise ValueError(f"{name} must be 0 or more, got {weight}")
        if sum(weights.values()) <= 0:
            raise ValueError(f"at least one loss weight must be positive, got {weights}")
        temperatures = {
            "contrastive_temperature": self.contrastive_temperature,
            "zero_shot_temperature": self.zero_shot_temperature,
        }
        for name, temperature in temperatures.items():
            if temperature <= 0:
                raise ValueError(f"{name} must be positive, got {temperature}")

    @property
    def num_visual_words_max(self) -> int:
        """The most words the hierarchical k-means can make: k ** depth."""
        return int(self.kmeans_k**self.kmeans_depth)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoBertConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown VideoBertConfig keys {unknown}")
        return cls(**data)
