"""The text encoder: the shipped all-MiniLM-L6-v2 (mean pooling, unit length), loaded offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from videobert.locations import default_text_model_path
from videobert.registry import InferenceModel, ModelMissing


class TextEncoder(InferenceModel):
    """The text slot: a BERT folder (VIDSEARCH_TEXT_MODEL), by default the shipped MiniLM."""

    slot = "text"
    setting = "VIDSEARCH_TEXT_MODEL"

    def __init__(
        self,
        model_path: str | Path | None = None,
        device: torch.device | None = None,
        batch_size: int = 64,
        max_length: int = 256,
    ) -> None:
        super().__init__()
        self.shipped = not model_path
        self.model_path = Path(model_path) if model_path else default_text_model_path()
        self._device = device or torch.device("cpu")
        self.batch_size = batch_size
        self.max_length = max_length

    @property
    def device(self) -> str:
        return self._device.type

    @property
    def name(self) -> str:
        return self.model_path.name if self.model_path.name != "model" else "all-MiniLM-L6-v2"

    @property
    def model_name(self) -> str:
        return f"{self.name} (shipped)" if self.shipped else str(self.model_path)

    def locate(self) -> Path:
        if not (self.model_path / "config.json").is_file():
            raise ModelMissing(
                slot=self.slot,
                setting=self.setting,
                value=str(self.model_path),
                looked_in=self.model_path,
                reason="is not a folder with a config.json",
            )
        return self.model_path

    def _load(self, path: Path) -> tuple[Any, Any]:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no weight-loading bars in CLI output
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True).eval().to(self._device)
        return model, tokenizer

    def load(self) -> tuple[Any, Any]:
        model, tokenizer = super().load()
        return model, tokenizer

    @property
    def dim(self) -> int:
        model, _ = self.load()
        return int(model.config.hidden_size)

    @torch.inference_mode()
    def encode(self, texts: list[str]) -> np.ndarray:
        model, tokenizer = self.load()
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = tokenizer(
                texts[start : start + self.batch_size],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self._device)
            hidden = model(**batch).last_hidden_state  # (batch, seq, hidden)
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
        if not out:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate(out).astype(np.float32)
