"""A vision-language model the user has on disk (CLIP, SigLIP or SigLIP 2), loaded with
transformers from local files only: its image tower embeds clips and picture queries, its text
tower embeds text queries and captions, into one space.

The pictures arrive as the indexer samples them for the shipped frame encoder (square uint8 RGB,
INPUT_SIDE pixels); they are resized to the model's own input and normalised here, in torch, as
its preprocessor_config.json says (no image-processor class: those want torchvision or PIL per
image, and a batch of video frames is already one tensor).

``ZeroShotLabels`` gives these features the shipped encoder's other half, class probabilities
over the ImageNet classes, from the text tower ("a photo of a tabby cat"): the hedged tags, the
captions' words and the concept signal read them unchanged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from videobert.frames import FrameFeatures
from videobert.locations import imagenet_class_names
from videobert.model_files import model_type
from videobert.picture_words import PictureWords
from videobert.registry import HubCheckpoint

log = logging.getLogger(__name__)

# model_type -> (transformers class name, default mean, default std)
KINDS: dict[str, tuple[str, tuple[float, ...], tuple[float, ...]]] = {
    "clip": (
        "CLIPModel",
        (0.48145466, 0.4578275, 0.40821073),
        (0.26862954, 0.26130258, 0.27577711),
    ),
    "siglip": ("SiglipModel", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "siglip2": ("Siglip2Model", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}
CLASS_PROMPT = "a photo of a {}."


@dataclass(frozen=True)
class Preprocessing:
    """How a frame becomes the model's input: its side, mean and std, and for SigLIP 2 the
    patch size of its patch sequence."""

    side: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    patch_size: int | None = None  # SigLIP 2: pixels go in as a sequence of patches

    @classmethod
    def read(cls, folder: Path, kind: str, config: Any) -> Preprocessing:
        _, mean, std = KINDS[kind]
        raw: dict[str, Any] = {}
        path = folder / "preprocessor_config.json"
        if path.is_file():
            raw = json.loads(path.read_text(encoding="utf-8"))
        mean = tuple(raw.get("image_mean", mean))
        std = tuple(raw.get("image_std", std))
        vision = config.vision_config
        if kind == "siglip2":
            patch = int(raw.get("patch_size", vision.patch_size))
            patches = int(raw.get("max_num_patches", vision.num_patches))
            # A square frame: the largest square grid within the model's patch budget.
            return cls(math.isqrt(patches) * patch, mean, std, patch_size=patch)
        size = raw.get("crop_size") if raw.get("do_center_crop") else raw.get("size")
        side = vision.image_size
        if isinstance(size, dict):
            side = size.get("height") or size.get("shortest_edge") or side
        elif isinstance(size, int):
            side = size
        return cls(int(side), mean, std)


@dataclass
class _Loaded:
    model: Any
    tokenizer: Any
    kind: str
    preprocessing: Preprocessing
    text_length: int
    logit_scale: float
    dim: int = 0


def _pooled(output: Any) -> torch.Tensor:
    """``get_*_features`` returns the projected vector, or (transformers 5) an output whose
    ``pooler_output`` it is."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


class VisionLanguageModel(HubCheckpoint):
    """CLIP, SigLIP or SigLIP 2 from a folder or the local Hugging Face cache."""

    slot = "vision"
    setting = "VIDSEARCH_VISION_MODEL"

    def __init__(self, value: str, device: torch.device, batch_size: int = 32) -> None:
        super().__init__(value)
        self._device = device
        self.batch_size = batch_size

    @property
    def device(self) -> str:
        return self._device.type

    @property
    def dtype(self) -> str:
        # bf16 halves the memory and doubles the speed of a GPU; CPUs stay exact.
        return "bfloat16" if self._device.type == "cuda" else "float32"

    def problem(self, folder: Path) -> str | None:
        kind = model_type(folder)
        if kind not in KINDS:
            return f"its model type {kind!r} is not CLIP, SigLIP or SigLIP 2"
        return None

    def _load(self, path: Path) -> _Loaded:
        # Its first caller may be inside inference_mode (a batch of frames): weights made there
        # could never be traced for the query tower's export, so they are made outside it.
        with torch.inference_mode(False):
            return self._load_weights(path)

    def _load_weights(self, path: Path) -> _Loaded:
        import transformers
        from transformers import AutoConfig, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        kind = config.model_type
        cls = getattr(transformers, KINDS[kind][0])
        dtype = torch.bfloat16 if self.dtype == "bfloat16" else torch.float32
        model = cls.from_pretrained(path, local_files_only=True, dtype=dtype)
        model = model.eval().to(self._device)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        loaded = _Loaded(
            model=model,
            tokenizer=tokenizer,
            kind=kind,
            preprocessing=Preprocessing.read(path, kind, config),
            text_length=int(config.text_config.max_position_embeddings),
            logit_scale=float(model.logit_scale.detach().float().exp().cpu()),
        )
        # The width of the joint space, whatever the config calls it: one short text's vector.
        with torch.inference_mode():
            probe = self._text_batch(loaded, ["a"])
            loaded.dim = int(_pooled(model.get_text_features(**probe)).shape[-1])
        return loaded

    # --- the towers ------------------------------------------------------------------------
    def pixels(self, frames: np.ndarray) -> dict[str, torch.Tensor]:
        """uint8 (n, h, w, 3) frames -> the image tower's inputs."""
        loaded = self.load()
        prep = loaded.preprocessing
        x = torch.from_numpy(np.ascontiguousarray(frames)).to(self._device)
        x = x.permute(0, 3, 1, 2).float().div_(255.0)
        if x.shape[-1] != prep.side or x.shape[-2] != prep.side:
            x = torch.nn.functional.interpolate(
                x, size=(prep.side, prep.side), mode="bicubic", antialias=True, align_corners=False
            ).clamp_(0.0, 1.0)
        mean = torch.tensor(prep.mean, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(prep.std, device=x.device).view(1, -1, 1, 1)
        x = (x - mean) / std
        dtype = loaded.model.dtype
        if prep.patch_size is None:
            return {"pixel_values": x.to(dtype)}
        p = prep.patch_size
        n, c, h, w = x.shape
        grid_h, grid_w = h // p, w // p
        # SigLIP 2's patch order: (rows, cols) of patches, each flattened as (p, p, channels).
        patches = x.reshape(n, c, grid_h, p, grid_w, p).permute(0, 2, 4, 3, 5, 1)
        patches = patches.reshape(n, grid_h * grid_w, p * p * c)
        return {
            "pixel_values": patches.to(dtype),
            "pixel_attention_mask": torch.ones(
                n, grid_h * grid_w, dtype=torch.long, device=x.device
            ),
            "spatial_shapes": torch.tensor(
                [[grid_h, grid_w]] * n, dtype=torch.long, device=x.device
            ),
        }

    @torch.inference_mode()
    def image_features(self, frames: np.ndarray) -> np.ndarray:
        """(n, dim) unit vectors of uint8 RGB frames, batched."""
        model = self.load().model
        out = []
        for start in range(0, len(frames), self.batch_size):
            inputs = self.pixels(frames[start : start + self.batch_size])
            v = _pooled(model.get_image_features(**inputs)).float()
            out.append(torch.nn.functional.normalize(v, dim=-1).cpu().numpy())
        if not out:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate(out).astype(np.float32)

    def text_inputs(self, texts: list[str]) -> dict[str, torch.Tensor]:
        return self._text_batch(self.load(), texts)

    def _text_batch(self, loaded: _Loaded, texts: list[str]) -> dict[str, torch.Tensor]:
        """Tokenized as the model was trained: CLIP padded to the longest with a mask; SigLIP
        padded to its full length (64) with no mask, as it pools the last position."""
        if loaded.kind == "clip":
            batch = loaded.tokenizer(
                texts,
                padding=True,
                truncation=True,
                max_length=loaded.text_length,
                return_tensors="pt",
            )
            ids, mask = batch["input_ids"], batch["attention_mask"]
            return {"input_ids": ids.to(self._device), "attention_mask": mask.to(self._device)}
        batch = loaded.tokenizer(
            texts,
            padding="max_length",
            truncation=True,
            max_length=loaded.text_length,
            return_tensors="pt",
        )
        return {"input_ids": batch["input_ids"].to(self._device)}

    @torch.inference_mode()
    def text_features(self, texts: list[str]) -> np.ndarray:
        model = self.load().model
        out = []
        for start in range(0, len(texts), self.batch_size):
            inputs = self.text_inputs(texts[start : start + self.batch_size])
            v = _pooled(model.get_text_features(**inputs)).float()
            out.append(torch.nn.functional.normalize(v, dim=-1).cpu().numpy())
        if not out:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate(out).astype(np.float32)

    @property
    def dim(self) -> int:
        return self.load().dim

    @property
    def logit_scale(self) -> float:
        return float(self.load().logit_scale)


class ZeroShotLabels:
    """The frame encoder of a vision-language space: features from the image tower, and class
    probabilities over the ImageNet classes from the text tower's prompts, so the tags, the
    captions' words and the concept signal work as with the shipped classifier."""

    def __init__(self, vlm: VisionLanguageModel, cache_dir: Path | None, name: str) -> None:
        self.vlm = vlm
        self.cache_dir = cache_dir
        self.name = name  # the space's name (locations.vision_space_name)
        self._classes: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def device(self) -> torch.device:
        return self.vlm._device

    def class_vectors(self) -> np.ndarray:
        """(1000, dim) unit text vectors of the class prompts, computed once per model and
        kept under VIDSEARCH_HOME/cache (a thousand prompts take a while on a CPU)."""
        with self._lock:
            if self._classes is None:
                names = imagenet_class_names()
                key = hashlib.sha256(
                    (self.name + CLASS_PROMPT + "\n".join(names)).encode()
                ).hexdigest()[:16]
                path = self.cache_dir / f"vlm-classes-{key}.npy" if self.cache_dir else None
                cached = np.load(path) if path is not None and path.is_file() else None
                if cached is not None and cached.shape == (len(names), self.vlm.dim):
                    self._classes = cached
                else:
                    prompts = [CLASS_PROMPT.format(n) for n in names]
                    self._classes = self.vlm.text_features(prompts)
                    if path is not None:
                        try:
                            path.parent.mkdir(parents=True, exist_ok=True)
                            tmp = path.with_suffix(
                                f".{os.getpid()}-{threading.get_ident()}.tmp.npy"
                            )
                            np.save(tmp, self._classes)
                            tmp.replace(path)
                        except OSError as exc:  # a read-only home computes them again next time
                            log.warning("could not keep the class prompts' vectors: %s", exc)
            return self._classes

    def class_probs(self, features: np.ndarray) -> np.ndarray:
        """Softmax over the classes of the model's own scaled cosine (SigLIP's bias is the same
        for every class, so it drops out of a softmax)."""
        x = np.atleast_2d(np.asarray(features, dtype=np.float32))
        x = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
        logits = self.vlm.logit_scale * (x @ self.class_vectors().T)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    def encode(self, frames: np.ndarray) -> FrameFeatures:
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be (n, h, w, 3) uint8, got {frames.shape}")
        features = self.vlm.image_features(frames)
        if len(features) == 0:
            return FrameFeatures(features, np.zeros((0, 1000), np.float32))
        return FrameFeatures(features, self.class_probs(features))


class VisionLanguageEmbedder(PictureWords):
    """A vision-language model's own space: a segment is the mean of its clips' image vectors,
    a text its text tower's vector, a match their cosine (the model was trained for it)."""

    def __init__(
        self,
        vlm: VisionLanguageModel,
        frames: ZeroShotLabels,
        *,
        tags_per_segment: int,
        tag_min_probability: float,
    ) -> None:
        self.vlm = vlm
        self.frames = frames
        self.tags_per_segment = tags_per_segment
        self.tag_min_probability = tag_min_probability

    @property
    def name(self) -> str:
        return self.frames.name

    def embed_video(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        if not segments:
            return np.zeros((0, self.vlm.dim), np.float32)
        out = np.stack([np.atleast_2d(np.asarray(s, np.float32)).mean(axis=0) for s in segments])
        return (out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)).astype(
            np.float32
        )

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        return self.vlm.text_features(list(texts))

    def align_scores(self, query: str, segments: Sequence[np.ndarray]) -> list[float]:
        if not segments:
            return []
        return [float(s) for s in self.embed_video(segments) @ self.embed_text([query])[0]]
