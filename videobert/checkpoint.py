"""Versioned VideoBERT checkpoints: config, vocabulary, codebook, tokenizer, weights, training state.

A checkpoint is a folder, written under a temporary name and renamed into place, so a crash
never leaves a half-written one where a loader looks:

    videobert.json     format version, config, backbone BertConfig, vocabulary, step, extras
    model.safetensors  every weight and buffer of the model
    codebook.npz       the visual tokenizer (optional)
    optimizer.pt       optimizer state, to resume training (optional)
    tokenizer/         the text tokenizer (optional; copied from the backbone when it has one)

``checkpoint_id`` (a digest of everything that shapes the vectors: weights, config, codebook)
names the model version, so vectors embedded by one checkpoint are never mixed with another's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from videobert.checkpoint_meta import (  # noqa: F401 - the checkpoint API, re-exported
    CHECKPOINT_FORMAT,
    META_FILE,
    checkpoint_name,
    read_meta,
)
from videobert.config import VideoBertConfig
from videobert.kmeans import Codebook
from videobert.model import VideoBert

WEIGHTS_FILE = "model.safetensors"
CODEBOOK_FILE = "codebook.npz"
OPTIMIZER_FILE = "optimizer.pt"
TOKENIZER_DIR = "tokenizer"
_TOKENIZER_FILES = (
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
STEP_PREFIX = "step-"


@dataclass
class Checkpoint:
    model: VideoBert
    step: int
    checkpoint_id: str
    codebook: Codebook | None = None
    optimizer_state: dict[str, Any] | None = None
    tokenizer_path: Path | None = None  # load with transformers' AutoTokenizer when present
    extra: dict[str, Any] = field(default_factory=dict)

    def load_tokenizer(self) -> Any:
        if self.tokenizer_path is None:
            raise FileNotFoundError("this checkpoint holds no tokenizer")
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.tokenizer_path, local_files_only=True)


def save_checkpoint(
    path: str | Path,
    model: VideoBert,
    *,
    codebook: Codebook | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    step: int = 0,
    tokenizer: Any = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """Write a checkpoint folder at ``path`` (replacing one there); returns its checkpoint_id."""
    from safetensors.torch import save_file

    if codebook is not None and codebook.num_words != model.num_visual_words:
        raise ValueError(
            f"codebook has {codebook.num_words} words, the model {model.num_visual_words}"
        )
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp / WEIGHTS_FILE))
    checkpoint_id = _checkpoint_id(tmp / WEIGHTS_FILE, model.config, codebook)
    if codebook is not None:
        codebook.save(tmp / CODEBOOK_FILE)
    if optimizer is not None:
        torch.save(optimizer.state_dict(), tmp / OPTIMIZER_FILE)
    if tokenizer is not None:
        tokenizer.save_pretrained(str(tmp / TOKENIZER_DIR))
    elif model.config.backbone is not None:
        names = [n for n in _TOKENIZER_FILES if (Path(model.config.backbone) / n).is_file()]
        if names:
            (tmp / TOKENIZER_DIR).mkdir()
            for name in names:
                shutil.copy2(Path(model.config.backbone) / name, tmp / TOKENIZER_DIR / name)
    meta = {
        "format": CHECKPOINT_FORMAT,
        "checkpoint_id": checkpoint_id,
        "step": int(step),
        "config": model.config.to_dict(),
        "bert_config": model.bert_config,
        "vocabulary": {
            "text_vocab_size": model.text_vocab_size,
            "num_visual_words": model.num_visual_words,
            "video_sep_id": model.video_sep_id,
            "visual_offset": model.visual_offset,
        },
        "extra": extra or {},
    }
    (tmp / META_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")

    if path.exists():  # swap: the old folder leaves only once the new one is complete
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(path)
    return checkpoint_id


def load_checkpoint(path: str | Path, *, device: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model from a checkpoint alone (the backbone folder is not read again)."""
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_meta(path)
    config = VideoBertConfig.from_dict(meta["config"])
    vocab = meta["vocabulary"]
    model = VideoBert(config, int(vocab["num_visual_words"]), bert_config=meta["bert_config"])
    if model.text_vocab_size != int(vocab["text_vocab_size"]):
        raise ValueError(
            f"{path}: saved text vocabulary {vocab['text_vocab_size']} but the rebuilt model "
            f"has {model.text_vocab_size}"
        )
    model.load_state_dict(load_file(str(path / WEIGHTS_FILE)), strict=True)
    model.to(device).eval()
    codebook = Codebook.load(path / CODEBOOK_FILE) if (path / CODEBOOK_FILE).is_file() else None
    optimizer_state = None
    if (path / OPTIMIZER_FILE).is_file():
        optimizer_state = torch.load(path / OPTIMIZER_FILE, map_location="cpu", weights_only=True)
    return Checkpoint(
        model=model,
        step=int(meta["step"]),
        checkpoint_id=str(meta["checkpoint_id"]),
        codebook=codebook,
        optimizer_state=optimizer_state,
        tokenizer_path=path / TOKENIZER_DIR if (path / TOKENIZER_DIR).is_dir() else None,
        extra=dict(meta.get("extra", {})),
    )


def load_training_state(
    path: str | Path, model: VideoBert, optimizer: torch.optim.Optimizer | None = None
) -> int:
    """Load a checkpoint's weights (and optimizer state) into an existing model to resume
    training; returns the step it was saved at. The model must have the same config and
    vocabulary as the one saved."""
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_meta(path)
    saved = VideoBertConfig.from_dict(meta["config"])
    if saved != model.config:
        diff = {
            k: (v, getattr(model.config, k))
            for k, v in saved.to_dict().items()
            if getattr(model.config, k) != v
        }
        raise ValueError(f"{path} was trained with another config (saved, current): {diff}")
    words = int(meta["vocabulary"]["num_visual_words"])
    if words != model.num_visual_words:
        raise ValueError(
            f"{path} has {words} visual words, the model being trained {model.num_visual_words}"
        )
    state = load_file(str(path / WEIGHTS_FILE), device=str(model.device))
    model.load_state_dict(state, strict=True)
    if optimizer is not None:
        if not (path / OPTIMIZER_FILE).is_file():
            raise FileNotFoundError(f"{path} holds no optimizer state to resume from")
        optimizer.load_state_dict(
            torch.load(path / OPTIMIZER_FILE, map_location=model.device, weights_only=True)
        )
    return int(meta["step"])


def step_dir(root: str | Path, step: int) -> Path:
    return Path(root) / f"{STEP_PREFIX}{step:08d}"


def latest_checkpoint(root: str | Path) -> Path | None:
    """The highest-step complete checkpoint under ``root`` (temporary folders are ignored)."""
    root = Path(root)
    if not root.is_dir():
        return None
    done = [
        p
        for p in root.iterdir()
        if p.name.startswith(STEP_PREFIX) and p.name[len(STEP_PREFIX) :].isdigit()
        if (p / META_FILE).is_file()
    ]
    return max(done, key=lambda p: int(p.name[len(STEP_PREFIX) :]), default=None)


def prune_checkpoints(root: str | Path, keep: int) -> None:
    """Delete all but the ``keep`` newest step checkpoints under ``root``."""
    steps = sorted(
        (p for p in Path(root).iterdir() if p.name.startswith(STEP_PREFIX)),
        key=lambda p: p.name,
    )
    for old in steps[: max(0, len(steps) - keep)]:
        shutil.rmtree(old, ignore_errors=True)


def _checkpoint_id(weights: Path, config: VideoBertConfig, codebook: Codebook | None) -> str:
    h = hashlib.sha256()
    with open(weights, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    h.update(json.dumps(config.to_dict(), sort_keys=True).encode())
    if codebook is not None:  # its arrays, not the .npz (zip entries carry timestamps)
        for array in (codebook.node_centroids, codebook.child_start, codebook.node_word):
            h.update(array.tobytes())
    return h.hexdigest()[:16]
