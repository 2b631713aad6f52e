"""The untrained VideoBERT from shipped weights: MiniLM, EfficientNet-Lite0's classifier, the
ImageNet class names and the data-free ImageNet codebook (VIDEOBERT.md item 5).

``shipped_parts`` gathers what the zero-shot start needs once per process; ``build_zero_shot``
makes the model (any codebook: the ImageNet one on a fresh install, a fitted one before
training); ``retune`` changes the class-name mix's temperature and top-k in place, so a
benchmark can sweep a grid without reloading the backbone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from videobert.config import VideoBertConfig
from videobert.frames import FrameEncoder, imagenet_class_names
from videobert.kmeans import Codebook, imagenet_codebook
from videobert.model import VideoBert, classifier_probs, init_zero_shot, zero_shot_model
from videobert.registry import MODELS


@dataclass(frozen=True)
class ShippedParts:
    """The pieces of the zero-shot start, loaded once per (backbone, frame encoder)."""

    backbone: Path
    backbone_label: str  # stable across machines (the folder's path is not)
    tokenizer: Any
    class_names: tuple[str, ...]
    classifier_weight: torch.Tensor  # (classes, feature_dim) float32, on the CPU
    classifier_bias: torch.Tensor  # (classes,)
    codebook: Codebook  # one word per ImageNet class


def backbone_label(path: Path) -> str:
    """A name for a backbone folder that is the same on every machine: its config's digest."""
    config = (path / "config.json").read_bytes()
    name = path.name if path.name != "model" else path.parent.name
    return f"{name}-{hashlib.sha256(config).hexdigest()[:8]}"


def shipped_parts(frame_encoder: FrameEncoder, backbone: Path) -> ShippedParts:
    """The shipped models' parts a zero-shot VideoBERT is built of (made once per process)."""

    def build() -> ShippedParts:
        from transformers import AutoTokenizer

        if not (backbone / "config.json").is_file():
            raise FileNotFoundError(f"text model folder {backbone} has no config.json")
        fc = frame_encoder.load()._fc
        weight = fc.weight.detach().float().cpu().clone()
        bias = fc.bias.detach().float().cpu().clone()
        names = imagenet_class_names()
        return ShippedParts(
            backbone=backbone,
            backbone_label=backbone_label(backbone),
            tokenizer=AutoTokenizer.from_pretrained(backbone, local_files_only=True),
            class_names=names,
            classifier_weight=weight,
            classifier_bias=bias,
            codebook=imagenet_codebook(weight.numpy(), names),
        )

    return MODELS.get("zero-shot parts", (str(backbone), id(frame_encoder)), build)


def zero_shot_config(
    backbone: Path, *, temperature: float, top_k: int, video_input: str, **overrides: Any
) -> VideoBertConfig:
    return VideoBertConfig(
        backbone=str(backbone),
        zero_shot_temperature=temperature,
        zero_shot_top_k=top_k,
        video_input=video_input,
        **overrides,
    )


def build_zero_shot(
    parts: ShippedParts, config: VideoBertConfig, codebook: Codebook | None = None
) -> VideoBert:
    """An untrained VideoBERT whose video inputs read like their class names; ``codebook``
    defaults to the ImageNet one."""
    codebook = codebook or parts.codebook
    return zero_shot_model(
        config,
        tokenizer=parts.tokenizer,
        class_names=parts.class_names,
        classifier_weight=parts.classifier_weight,
        classifier_bias=parts.classifier_bias,
        codebook_centroids=torch.from_numpy(codebook.centroids),
    )


def zero_shot_digest(config: VideoBertConfig, parts: ShippedParts, codebook: Codebook) -> str:
    """What shapes an untrained model's vectors, as 12 hex digits: the config (with the
    backbone by label, not path), the classifier, and the codebook."""
    h = hashlib.sha256()
    data = {**config.to_dict(), "backbone": parts.backbone_label}
    h.update(json.dumps(data, sort_keys=True).encode())
    h.update(parts.classifier_weight.numpy().tobytes())
    h.update(parts.classifier_bias.numpy().tobytes())
    for array in (codebook.node_centroids, codebook.node_word):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:12]


@torch.no_grad()
def retune(model: VideoBert, codebook: Codebook, *, temperature: float, top_k: int) -> None:
    """Set the class-name mix's temperature and top-k of an untrained model in place (its
    continuous inputs and its visual words' embeddings both follow)."""
    model.config = dataclasses.replace(
        model.config, zero_shot_temperature=temperature, zero_shot_top_k=top_k
    )
    centroids = torch.from_numpy(codebook.centroids).to(model.device)
    init_zero_shot(
        model,
        class_embeddings=model.class_embeddings.clone(),
        classifier_weight=model.classifier_weight.clone(),
        classifier_bias=model.classifier_bias.clone(),
        word_class_probs=classifier_probs(
            centroids, model.classifier_weight, model.classifier_bias
        ),
    )


# The heads only score pairs and predict tokens; embeddings never read them, so a mixed model
# keeps its trained heads whole.
HEAD_PREFIXES = ("mlm_transform.", "mlm_bias", "align_head.")


@torch.no_grad()
def mix_with_start(trained: VideoBert, start: VideoBert, weight: float) -> None:
    """Weight-space ensembling (WiSE-FT, Wortsman et al. 2022): in place, every encoder weight
    of ``trained`` becomes ``(1 - weight) * start + weight * trained``, ``start`` being the
    zero-shot model training began from. On a small library this keeps most of the zero-shot
    model's breadth (queries about things the library never said) and most of what training
    learnt; ``weight`` 1 keeps the trained model as it is."""
    if not 0.0 < weight <= 1.0:
        raise ValueError(f"mix weight must be in (0, 1], got {weight}")
    if weight == 1.0:
        return
    ours, theirs = trained.state_dict(), start.state_dict()
    if ours.keys() != theirs.keys():
        raise ValueError("the trained model and its start have different weights")
    mixed = {}
    for key, value in ours.items():
        base = theirs[key].to(value.device)
        if base.shape != value.shape:
            raise ValueError(f"{key}: trained {tuple(value.shape)} vs start {tuple(base.shape)}")
        keep = not value.is_floating_point() or key.startswith(HEAD_PREFIXES)
        mixed[key] = value if keep else torch.lerp(base.to(value.dtype), value, weight)
    trained.load_state_dict(mixed)
