"""GPU check of the vision-language path: the image tower's frames per second in bf16 on CUDA,
then the shipped footage ingested through it end to end, with the ratio of the pipeline to its
unavoidable parts (decoding the sampled frames + the model passes: bench/ingest.py's measure).

No vision-language weights ship in any package and the GPU machines reach no network, so
``--model random-clip-b32`` (the default) builds a checkpoint of CLIP ViT-B/32's real shape with
random weights: the arithmetic, and so the speed, are a real B/32's. A folder or a model id in
the local cache measures that model instead.

    .venv/bin/python bench/gpu.py [--model random-clip-b32|random-siglip2-b16|DIR|ID]
                                  [--device cuda|cpu] [--samples DIR] [--frames 512]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.settings import Settings  # noqa: E402
from indexer import media  # noqa: E402
from indexer.samples import collect_samples  # noqa: E402
from videobert.frames import INPUT_SIDE  # noqa: E402


def random_checkpoint(kind: str, folder: Path) -> Path:
    """A full-size checkpoint with random weights (the tokenizer is a small trained one: the
    text side's cost is the transformer's, not the vocabulary's)."""
    import torch
    from transformers import CLIPConfig, CLIPModel, Siglip2Config, Siglip2Model

    from tests.tiny_models import tiny_tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    if kind == "random-clip-b32":
        ids = tiny_tokenizer(folder, bos=True, model_max_length=77)
        config = CLIPConfig(
            text_config={
                "vocab_size": ids["vocab_size"],
                "bos_token_id": ids["<s>"],
                "eos_token_id": ids["</s>"],
                "pad_token_id": ids["<pad>"],
            },
            vision_config={"image_size": 224, "patch_size": 32},
            projection_dim=512,
        )
        CLIPModel(config).save_pretrained(folder)
        return folder
    if kind == "random-siglip2-b16":
        ids = tiny_tokenizer(folder, bos=False, model_max_length=64)
        config = Siglip2Config(
            text_config={
                "vocab_size": ids["vocab_size"],
                "pad_token_id": ids["<pad>"],
                "eos_token_id": ids["</s>"],
            },
            vision_config={"num_patches": 256, "patch_size": 16},
        )
        Siglip2Model(config).save_pretrained(folder)
        return folder
    raise SystemExit(f"unknown random model {kind!r}")


def tower_speed(model: str, device: str, n: int) -> dict[str, float]:
    """Frames per second of the image tower alone, on frames already decoded, after a warm-up."""
    import torch

    from videobert.vision_language import VisionLanguageModel

    vlm = VisionLanguageModel(model, torch.device(device), batch_size=64)
    frames = np.random.default_rng(0).integers(0, 255, (n, INPUT_SIDE, INPUT_SIDE, 3), np.uint8)
    vlm.image_features(frames[:64])  # load and warm up (kernels, autotuning)
    if device == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    vlm.image_features(frames)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t
    return {"frames": n, "seconds": seconds, "fps": n / seconds, "dtype": vlm.dtype}


def main(argv: Sequence[str] | None = None) -> None:
    from bench.ingest import run

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default="random-clip-b32")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--samples", type=Path, default=None, help="default: the shipped footage")
    ap.add_argument("--frames", type=int, default=512, help="frames for the tower's speed")
    args = ap.parse_args(argv)

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU here: run it where there is one, or pass --device cpu")
    gpu = torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU"
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model.startswith("random-"):
            model = str(random_checkpoint(model, Path(tmp) / model))
        speed = tower_speed(model, args.device, args.frames)
        print(f"device: {gpu}; torch {torch.__version__}; model {args.model} ({speed['dtype']})")
        print(
            f"image tower alone: {speed['frames']} frames in {speed['seconds']:.2f} s -> "
            f"{speed['fps']:.0f} frames/s"
        )
        folder = args.samples or collect_samples(Path(tmp) / "samples") and Path(tmp) / "samples"
        files = sorted(p for p in Path(folder).iterdir() if p.is_file())
        durations = {f: media.probe(f).duration for f in files}
        total = sum(durations.values())
        print(f"footage: {len(files)} files, {total:.1f} s of video")
        settings = Settings(home=Path(tmp) / "home", vision_model=model, device=args.device)
        run(files, durations, total, settings)


if __name__ == "__main__":
    main()
