"""``vidsearch train``: train VideoBERT on the library, re-embed every ready video, swap."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.settings import Settings
from ui.cli.output import fail, print_json


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("train", help="train VideoBERT on the library, then re-embed it")
    s.add_argument("--epochs", type=float, default=None, help="passes over the library")
    s.add_argument("--steps", type=int, default=None, help="optimizer steps (wins over epochs)")
    s.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None)
    s.add_argument(
        "--reembed-only",
        action="store_true",
        help="no training: finish moving the library into the pending model",
    )
    s.add_argument("--wait", action="store_true", help="served mode: wait for the swap")
    s.add_argument("--timeout", type=float, default=None, help="with --wait: give up after this")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from services.training import CannotTrain, train_and_swap

    quiet = True if args.json else None  # tqdm: None shows bars on a terminal only
    bars: dict[str, Any] = {}

    def on_step(step: int, steps: int, losses: dict[str, float]) -> None:
        bar = bars.get("train") or bars.setdefault(
            "train", tqdm(desc="training", unit="step", file=sys.stderr, disable=quiet)
        )
        bar.total, bar.n = steps, step
        shown = ("text_mlm", "video_mlm", "alignment", "contrastive")
        bar.set_postfix({k: f"{losses[k]:.3f}" for k in shown if k in losses}, refresh=False)
        bar.refresh()

    def on_video(done: int, total: int) -> None:
        bar = bars.get("reembed") or bars.setdefault(
            "reembed", tqdm(desc="re-embedding", unit="video", file=sys.stderr, disable=quiet)
        )
        bar.total, bar.n = total, done
        bar.refresh()

    try:
        report = train_and_swap(
            settings,
            epochs=args.epochs,
            steps=args.steps,
            device=args.device,
            reembed_only=args.reembed_only,
            wait=args.wait,
            timeout=args.timeout,
            on_step=on_step,
            on_video=on_video,
        )
    except CannotTrain as exc:
        return fail("train", str(exc))
    finally:
        for bar in bars.values():
            bar.close()
    if args.json:
        print_json(report)
    else:
        _print_report(report)
    return 0 if report.get("swapped") or report.get("note") else 1


def _print_report(out: dict[str, Any]) -> None:
    if "checkpoint" in out:
        print(
            f"trained {out['steps']} steps ({out['trained_steps']} now) on {out['examples']} "
            f"segments, {out['visual_words']} visual words: {out['checkpoint']}"
        )
    if out.get("swapped"):
        print(f"library re-embedded; search now uses {out['active']}")
    elif out.get("note"):
        print(out["note"])
    else:
        print(f"not swapped yet: {out.get('pending')} is pending; active: {out.get('active')}")
