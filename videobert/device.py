"""Where models run: CUDA when present (and asked for), else CPU with a sane thread count."""

from __future__ import annotations

import os
from functools import lru_cache

import torch


@lru_cache(maxsize=4)
def pick_device(preference: str = "auto", threads: int = 0) -> torch.device:
    if preference not in {"auto", "cpu", "cuda"}:
        raise ValueError(f"device must be auto, cpu or cuda, got {preference!r}")
    if preference == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for, but torch sees no CUDA GPU")
    if preference == "cuda" or (preference == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    torch.set_num_threads(threads or max(1, os.cpu_count() or 1))
    return torch.device("cpu")
