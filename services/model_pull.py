"""``vidsearch models pull``: the one place the product reaches the network, to fetch a model
into the local Hugging Face cache for a user who has internet. Nothing else calls it: every
other process loads models from local files only (videobert/model_files.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import Settings
from videobert.model_files import checkpoint_problem, hub_cache, locate_checkpoint, looks_like_path

# What a checkpoint needs to run here: weights in safetensors (no pickles run on load), configs,
# tokenizers. Other formats a repository carries (TF, Flax, ONNX, PyTorch pickles) are left.
PULL_PATTERNS = ["*.safetensors", "*.safetensors.index.json", "*.json", "*.txt", "*.model"]

Download = Callable[..., str]


class PullError(RuntimeError):
    pass


@dataclass(frozen=True)
class Pulled:
    name: str
    folder: Path
    already: bool  # it was in the cache, complete, before this call


def configured_pulls(settings: Settings) -> tuple[list[str], list[str]]:
    """(required, optional) hub ids these settings name: what ``models pull`` with no name
    fetches, as the served stack's one-shot model service does. A vision model, or a summarizer
    the user chose, must arrive; the default summarizer is tried (summaries are extractive
    without it), so a stack with nothing to fetch starts offline."""
    from services.model_slots import default_summarizer

    required = [n for n in (settings.vision_model,) if n and not looks_like_path(n)]
    summary = settings.summary_model
    optional: list[str] = []
    if summary and not looks_like_path(summary):
        (optional if summary == default_summarizer() else required).append(summary)
    return required, optional


def pull(
    name: str, *, download: Download | None = None, progress: Any = None, force: bool = False
) -> Pulled:
    """Fetch ``name`` into the local cache (resuming a cut download) and check its files."""
    if looks_like_path(name):
        raise PullError(f"{name!r} is a folder, not a model id: nothing to pull")
    found = locate_checkpoint(name)
    if found.folder is not None and not force and checkpoint_problem(found.folder) is None:
        return Pulled(name, found.folder, already=True)
    if download is None:
        from huggingface_hub import snapshot_download

        download = snapshot_download
    kwargs: dict[str, Any] = {"cache_dir": str(hub_cache()), "allow_patterns": PULL_PATTERNS}
    if progress is not None:
        kwargs["tqdm_class"] = progress
    try:
        folder = Path(download(repo_id=name, **kwargs))
    except Exception as exc:  # noqa: BLE001 - the hub's errors are many; the user needs one line
        raise PullError(f"could not fetch {name!r}: {type(exc).__name__}: {exc}") from exc
    if not (folder / "config.json").is_file():
        raise PullError(f"{name!r} was fetched into {folder} but has no config.json")
    problem = checkpoint_problem(folder)
    if problem:
        raise PullError(f"{name!r} was fetched into {folder} but {problem}")
    return Pulled(name, folder, already=False)
