"""Where a checkpoint the user names lies on disk, found without importing transformers: a
folder, or a model id in the local Hugging Face cache. Nothing here reaches the network; the
one command that may is ``vidsearch models pull`` (videobert/pull.py)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# The files one of these checkpoints keeps its weights in (single or sharded).
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


def hub_cache() -> Path:
    """The Hugging Face hub cache, as huggingface_hub itself resolves it."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".cache" / "huggingface"
    return base / "hub"


def _repo_folder(model_id: str) -> Path:
    return hub_cache() / f"models--{model_id.replace('/', '--')}"


def looks_like_path(value: str) -> bool:
    """A value naming a folder rather than a hub id ("openai/clip-vit-base-patch32")."""
    return value.startswith(("/", ".", "~")) or os.sep in value.strip("/").replace("/", "", 1)


@dataclass(frozen=True)
class Located:
    """Where a named checkpoint was looked for, and the folder found (None: not there)."""

    value: str
    looked_in: Path
    folder: Path | None


def locate_checkpoint(value: str) -> Located:
    """The folder holding ``value``'s config.json: ``value`` itself when it is a folder, else
    the snapshot the cache's ``refs/main`` names (or its newest snapshot with a config)."""
    folder = Path(value).expanduser()
    if folder.is_dir() or looks_like_path(value):
        found = folder if (folder / "config.json").is_file() else None
        return Located(value, folder, found)
    repo = _repo_folder(value)
    snapshots = repo / "snapshots"
    ref = repo / "refs" / "main"
    if ref.is_file():
        pinned = snapshots / ref.read_text(encoding="utf-8").strip()
        if (pinned / "config.json").is_file():
            return Located(value, repo, pinned)
    candidates = sorted(
        (p for p in snapshots.glob("*") if (p / "config.json").is_file()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    return Located(value, repo, candidates[0] if candidates else None)


def checkpoint_problem(folder: Path) -> str | None:
    """What is wrong with a checkpoint folder, read from its files without loading weights
    (an unreadable config, no weights, a truncated safetensors header), or None."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"its config.json is unreadable ({exc})"
    if not isinstance(config, dict) or "model_type" not in config:
        return "its config.json names no model_type"
    weights = [folder / f for f in WEIGHT_FILES if (folder / f).is_file()]
    if not weights:
        return f"it holds no weights (looked for {', '.join(WEIGHT_FILES)})"
    single = folder / "model.safetensors"
    if single.is_file():
        problem = _safetensors_problem(single)
        if problem:
            return problem
    return None


def _safetensors_problem(path: Path) -> str | None:
    """A safetensors file starts with an 8-byte header length and a JSON header whose tensors
    end where the file does: a download cut short fails this."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                return f"{path.name} is truncated"
            length = int.from_bytes(head, "little")
            if length <= 0 or 8 + length > size:
                return f"{path.name} is truncated or not a safetensors file"
            header = json.loads(f.read(length))
    except (OSError, ValueError) as exc:
        return f"{path.name} is unreadable ({exc})"
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    if ends and 8 + length + max(ends) > size:
        return f"{path.name} is truncated ({size} bytes, its header needs {8 + length + max(ends)})"
    return None


def model_type(folder: Path) -> str:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return str(config.get("model_type", ""))
