"""What the model package reads from the settings, as one typed, frozen value.

The model code never sees the whole ``Settings``: it gets ``ModelOptions``, so mypy checks every
knob it reads, and a cache keyed by options cannot miss a field that changes a vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings


@dataclass(frozen=True)
class ModelOptions:
    home: Path  # VIDSEARCH_HOME: checkpoints, the active-model record and caches live under it
    device: str  # "auto", "cpu" or "cuda"
    torch_threads: int  # 0: one per core
    text_model: str | None  # a BERT folder; None: the shipped all-MiniLM-L6-v2
    frame_model: str
    vision_model: str | None  # a CLIP / SigLIP checkpoint: the vision slot (see registry.py)
    frame_batch_size: int
    embedder: str  # "videobert" or "bridge"
    video_input: str  # VideoBERT's video input: "continuous" or "tokens"
    videobert_temperature: float
    videobert_top_k: int
    bridge_temperature: float
    bridge_top_k: int
    tags_per_segment: int
    tag_min_probability: float

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelOptions:
        return cls(
            home=Path(settings.home),
            device=settings.device,
            torch_threads=settings.torch_threads,
            text_model=settings.text_model,
            frame_model=settings.frame_model,
            vision_model=settings.vision_model,
            frame_batch_size=settings.frame_batch_size,
            embedder=settings.embedder,
            video_input=settings.video_input,
            videobert_temperature=settings.videobert_temperature,
            videobert_top_k=settings.videobert_top_k,
            bridge_temperature=settings.bridge_temperature,
            bridge_top_k=settings.bridge_top_k,
            tags_per_segment=settings.tags_per_segment,
            tag_min_probability=settings.tag_min_probability,
        )


def model_options(source: Settings | ModelOptions) -> ModelOptions:
    """Options from either the settings or options already made."""
    return source if isinstance(source, ModelOptions) else ModelOptions.from_settings(source)
