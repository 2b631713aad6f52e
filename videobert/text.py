"""The text encoder: the shipped all-MiniLM-L6-v2 (mean pooling, unit length), loaded offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from videobert.locations import default_text_model_path


class TextEncoder:
    def __init__(
        self,
        model_path: str | Path | None = None,
        device: torch.device | None = None,
        batch_size: int = 64,
        max_length: int = 256,
    ) -> None:
        self.model_path = Path(model_path) if model_path else default_text_model_path()
        self.device = device or torch.device("cpu")
        self.batch_size = batch_size
        self.max_length = max_length
        self._model: Any = None
        self._tokenizer: Any = None

    @property
    def name(self) -> str:
        return self.model_path.name if self.model_path.name != "model" else "all-MiniLM-L6-v2"

    def load(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no weight-loading bars in CLI output

            if not (self.model_path / "config.json").is_file():
                raise FileNotFoundError(f"text model folder {self.model_path} has no config.json")
            self._tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
            self._model = (
                AutoModel.from_pretrained(self.model_path, local_files_only=True)
                .eval()
                .to(self.device)
            )
        return self._model, self._tokenizer

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
            ).to(self.device)
            hidden = model(**batch).last_hidden_state  # (batch, seq, hidden)
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
        if not out:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate(out).astype(np.float32)
