"""Training VideoBERT on the library: visual words, training segments from the catalog, the loop.

No video is decoded: the catalog keeps every segment's clip features, transcript and visual
tags. ``train_library`` fits the codebook on those features (fewer words when data is scarce),
turns segments into examples (a segment with speech: its transcript and its clips; stretches
without speech: up to 16 clips with their visual tags as text), and trains text MLM + video MLM
+ alignment + contrastive from the zero-shot start, with the paper's augmentations.

Runs are resumable: a run's folder (``VIDSEARCH_HOME/models/videobert/run-<digest>``) is named
by everything that shapes it (the library's segments, the config, steps, batch, lr, seed), so
running the same training again continues from its newest checkpoint, and a finished run is not
trained twice. Re-embedding the library and the swap are model_lifecycle/reembed.py's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.arrays import unpack_f16_matrix
from core.catalog import ready_segments
from core.db import session_scope
from core.settings import Settings
from model_lifecycle.calibration import (
    calibration_for,
    null_quantile,
    save_calibration,
    shifted_calibration,
    threshold_for,
)
from videobert.checkpoint import (
    META_FILE,
    OPTIMIZER_FILE,
    checkpoint_name,
    latest_checkpoint,
    load_checkpoint,
    prune_checkpoints,
    read_meta,
    save_checkpoint,
)
from videobert.config import VideoBertConfig
from videobert.embedder import (
    checkpoint_embedder,
    shared_encoders,
    text_backbone,
    zero_shot_embedder,
)
from videobert.kmeans import Codebook, fit_codebook
from videobert.locations import CHECKPOINTS_DIR
from videobert.model import tokenize
from videobert.options import ModelOptions
from videobert.training import Example, ProgressCallback, train
from videobert.zero_shot import (
    ShippedParts,
    build_zero_shot,
    mix_with_start,
    shipped_parts,
    zero_shot_config,
)

log = logging.getLogger(__name__)

SILENT_CLIPS = 16  # the paper: 16 visual tokens make a segment where there is no speech
MIN_CLIPS_PER_WORD = 4  # fewer clips per visual word than this: the tree is made shallower
SEED = 0


class NothingToTrain(ValueError):
    """The library has too little to train on (the message says what is missing)."""


@dataclass(frozen=True)
class LibrarySegment:
    video_id: str
    index: int
    transcript: str
    tags: tuple[str, ...]
    clips: np.ndarray  # (n_clips, feature_dim) float32


@dataclass(frozen=True)
class TrainOutcome:
    checkpoint: Path
    checkpoint_id: str
    steps: int
    trained_steps: int  # 0 when the run had already finished
    examples: int
    visual_words: int
    losses: dict[str, float]


def library_segments(settings: Settings) -> list[LibrarySegment]:
    """Every segment of every ready video, in video then segment order."""
    with session_scope(settings) as session:
        return [
            LibrarySegment(
                video_id=video.id,
                index=seg.index,
                transcript=seg.transcript.strip(),
                tags=tuple(t.strip() for t in seg.tags.split(",") if t.strip()),
                clips=unpack_f16_matrix(seg.clip_features),
            )
            for video, seg in ready_segments(session=session)
        ]


def codebook_shape(n_clips: int, k: int, depth: int) -> tuple[int, int]:
    """(k, depth) for ``n_clips`` features: each word should gather a few clips, so scarce data
    gets a shallower tree (and fewer branches when even one level is too many)."""
    k = max(2, min(k, n_clips // MIN_CLIPS_PER_WORD))
    while depth > 1 and k**depth * MIN_CLIPS_PER_WORD > n_clips:
        depth -= 1
    return k, depth


def build_examples(
    segments: Sequence[LibrarySegment],
    codebook: Codebook,
    tokenizer: object,
    *,
    max_text_tokens: int,
    silent: bool = False,
) -> list[Example]:
    """Aligned (text, clips) examples in video order (neighbours of one video may be joined by
    the augmentation): a segment with speech is its transcript and its clips. With ``silent``,
    consecutive segments without speech also make examples of up to SILENT_CLIPS clips whose
    text is their visual tags (the paper's 16-token segments, which need some text here); off
    by default, because on the dev set training on the classifier's own top tags pulled video
    vectors away from the broader zero-shot mix and lost visual queries (bench/retrieval.py).
    Stretches with no text at all (no speech, no tags) are left out."""
    pending: list[tuple[str, tuple[str, ...], np.ndarray]] = []  # (video, tags, clips)
    texts: list[str] = []
    clips: list[np.ndarray] = []
    groups: list[str] = []

    def add(video_id: str, text: str, features: np.ndarray) -> None:
        if text.strip() and len(features):
            texts.append(text)
            clips.append(features)
            groups.append(video_id)

    def flush_silent() -> None:
        if not silent:
            pending.clear()
        if not pending:
            return
        feats = np.concatenate([c for _, _, c in pending])
        for start in range(0, len(feats), SILENT_CLIPS):
            chunk = feats[start : start + SILENT_CLIPS]
            # the tags of the segments this chunk overlaps, in order, without repeats
            tags: list[str] = []
            at = 0
            for _, seg_tags, seg_clips in pending:
                if at < start + len(chunk) and at + len(seg_clips) > start:
                    tags += [t for t in seg_tags if t not in tags]
                at += len(seg_clips)
            add(pending[0][0], ", ".join(tags), chunk)
        pending.clear()

    last_video = None
    for seg in segments:
        if seg.video_id != last_video:
            flush_silent()
            last_video = seg.video_id
        if seg.transcript:
            flush_silent()
            add(seg.video_id, seg.transcript, seg.clips)
        else:
            pending.append((seg.video_id, seg.tags, seg.clips))
    flush_silent()
    if not texts:
        return []
    ids, mask = tokenize(tokenizer, texts, max_text_tokens)
    words = codebook.assign(np.concatenate(clips), exact=True)
    out, at = [], 0
    for row, m, feats, group in zip(ids, mask, clips, groups, strict=True):
        text_ids = row[m.bool()].tolist()
        n = len(feats)
        if text_ids:
            out.append(
                Example(
                    text_ids=text_ids,
                    visual_ids=words[at : at + n].tolist(),
                    features=feats,
                    group=group,
                )
            )
        at += n
    return out


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()[:12]


def library_fingerprint(segments: Sequence[LibrarySegment]) -> str:
    """What a run trains on: every segment's text and clip features (not the videos' revisions,
    which a swap bumps without changing anything a run reads)."""
    h = hashlib.sha256()
    for s in segments:
        h.update(json.dumps([s.video_id, s.index, s.transcript, list(s.tags)]).encode())
        h.update(np.ascontiguousarray(s.clips, dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


def training_config(settings: Settings, backbone: Path, n_clips: int) -> VideoBertConfig:
    k, depth = codebook_shape(n_clips, settings.kmeans_k, settings.kmeans_depth)
    return zero_shot_config(
        backbone,
        temperature=settings.videobert_temperature,
        top_k=settings.videobert_top_k,
        video_input=settings.video_input,
        kmeans_k=k,
        kmeans_depth=depth,
    )


def train_library(
    settings: Settings,
    *,
    epochs: float | None = None,
    steps: int | None = None,
    device: str | None = None,
    progress: ProgressCallback | None = None,
    segments: Sequence[LibrarySegment] | None = None,
    runs_dir: Path | None = None,
) -> TrainOutcome:
    """Train VideoBERT on the library's ready videos; returns the final checkpoint.

    ``steps`` wins over ``epochs`` (default ``settings.train_epochs``); ``device`` is auto, cpu
    or cuda (default ``settings.device``). Raises NothingToTrain when the library holds fewer
    than two segments with text.
    """
    segments = library_segments(settings) if segments is None else list(segments)
    if not segments:
        raise NothingToTrain("the library has no ready videos: ingest some first")
    features = np.concatenate([s.clips for s in segments])
    frames, _ = shared_encoders(ModelOptions.from_settings(settings))
    backbone = text_backbone(ModelOptions.from_settings(settings))
    parts = shipped_parts(frames, backbone)
    config = training_config(settings, backbone, len(features))
    length = steps or f"epochs={epochs or settings.train_epochs}"
    run_dir = _run_folder(settings, segments, config, parts, length=length, runs_dir=runs_dir)
    codebook = _run_codebook(run_dir, features, config)
    examples = _examples_or_refuse(settings, segments, codebook, parts, config)
    batch_size = min(settings.train_batch_size, len(examples))
    total = steps or max(
        1, math.ceil((epochs or settings.train_epochs) * len(examples) / batch_size)
    )
    started = _steps_done(run_dir)
    losses: dict[str, float] = {}
    if started < total:
        losses = _train_run(
            settings,
            run_dir,
            _RunParts(parts, config, codebook),
            examples,
            steps=total,
            batch_size=batch_size,
            device=device,
            progress=progress,
        )
    else:
        log.info("run %s already finished at step %d", run_dir, started)
    final = _finish(run_dir, parts, config, codebook, mix=settings.train_mix)
    calibrate_trained(settings, final, segments)
    meta = read_meta(final)
    return TrainOutcome(
        checkpoint=final,
        checkpoint_id=str(meta["checkpoint_id"]),
        steps=total,
        trained_steps=max(0, total - started),
        examples=len(examples),
        visual_words=codebook.num_words,
        losses=losses or dict(meta.get("extra", {}).get("losses", {})),
    )


@dataclass(frozen=True)
class _RunParts:
    """What a run's model is built from: the shipped encoders, its config and its codebook."""

    shipped: ShippedParts
    config: VideoBertConfig
    codebook: Codebook


def _run_folder(
    settings: Settings,
    segments: Sequence[LibrarySegment],
    config: VideoBertConfig,
    parts: ShippedParts,
    *,
    length: int | str,
    runs_dir: Path | None,
) -> Path:
    """The run's folder, made if new: named by everything that shapes the run, so the same
    training again finds (and resumes) it. ``length``: the steps, or the epochs asked for."""
    run = _digest(
        library_fingerprint(segments),
        {**config.to_dict(), "backbone": parts.backbone_label},
        settings.train_batch_size,
        settings.train_lr,
        settings.train_silent,
        SEED,
        length,
    )
    run_dir = (runs_dir or Path(settings.home) / CHECKPOINTS_DIR) / f"run-{run}"
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _run_codebook(run_dir: Path, features: np.ndarray, config: VideoBertConfig) -> Codebook:
    """The run's visual words: fitted once on the library's clip features, then read back (a
    resumed run must tokenize exactly as it started)."""
    codebook_file = run_dir / "codebook.npz"
    if codebook_file.is_file():
        return Codebook.load(codebook_file)
    codebook = fit_codebook(
        features, k=config.kmeans_k, depth=config.kmeans_depth, seed=SEED, iters=30
    )
    tmp = run_dir / ".codebook.tmp.npz"
    codebook.save(tmp)
    tmp.replace(codebook_file)
    return codebook


def _examples_or_refuse(
    settings: Settings,
    segments: Sequence[LibrarySegment],
    codebook: Codebook,
    parts: ShippedParts,
    config: VideoBertConfig,
) -> list[Example]:
    """The training examples; NothingToTrain, saying what is missing, when fewer than two."""
    examples = build_examples(
        segments,
        codebook,
        parts.tokenizer,
        max_text_tokens=config.max_text_tokens,
        silent=settings.train_silent,
    )
    if len(examples) < 2:
        what = "speech or visual tags" if settings.train_silent else "speech"
        raise NothingToTrain(
            f"{len(examples)} training segment(s) with {what} in {len(segments)} segments; "
            "training needs at least 2"
            + ("" if settings.train_silent else " (VIDSEARCH_TRAIN_SILENT=true also uses tags)")
        )
    return examples


def _steps_done(run_dir: Path) -> int:
    """The step of the run's newest checkpoint (0: none yet)."""
    latest = latest_checkpoint(run_dir)
    return int(read_meta(latest)["step"]) if latest is not None else 0


def _train_run(
    settings: Settings,
    run_dir: Path,
    run: _RunParts,
    examples: list[Example],
    *,
    steps: int,
    batch_size: int,
    device: str | None,
    progress: ProgressCallback | None,
) -> dict[str, float]:
    """Train the run up to ``steps`` from its newest checkpoint; returns the final losses."""
    from videobert.device import pick_device

    torch.manual_seed(SEED)  # the heads' random start: the same for a resume and the mix
    model = build_zero_shot(run.shipped, run.config, run.codebook)
    result = train(
        model,
        examples,
        steps=steps,
        batch_size=batch_size,
        lr=settings.train_lr,
        warmup_steps=max(1, steps // 10),
        device=pick_device(device or settings.device, settings.torch_threads),
        seed=SEED,
        progress=progress,
        checkpoint_dir=run_dir,
        checkpoint_every=settings.train_checkpoint_every,
        keep_checkpoints=2,
        resume=True,
        codebook=run.codebook,
        tokenizer=run.shipped.tokenizer,
    )
    return result.losses


def _finish(
    run_dir: Path, parts: ShippedParts, config: VideoBertConfig, codebook: Codebook, *, mix: float
) -> Path:
    """The model a run delivers: its last checkpoint, averaged with the zero-shot start by
    ``mix`` (see videobert.zero_shot.mix_with_start), saved once beside the step folders."""
    last = latest_checkpoint(run_dir)
    assert last is not None
    # A finished run is not resumed: its older step and its optimizer state only take space.
    prune_checkpoints(run_dir, 1)
    (last / OPTIMIZER_FILE).unlink(missing_ok=True)
    if mix >= 1.0:
        return last
    final = run_dir / f"final-mix{mix:g}-{last.name}"
    if (final / META_FILE).is_file():
        return final
    loaded = load_checkpoint(last)
    torch.manual_seed(SEED)
    start = build_zero_shot(parts, config, codebook)
    mix_with_start(loaded.model, start, mix)
    save_checkpoint(
        final,
        loaded.model,
        codebook=codebook,
        step=loaded.step,
        tokenizer=parts.tokenizer,
        extra={**loaded.extra, "mix": mix, "trained": last.name},
    )
    return final


CALIBRATION_SAMPLE = 512  # captions and segments enough to place a chance level (the 99th %)


def calibrate_trained(
    settings: Settings, checkpoint: Path, segments: Sequence[LibrarySegment]
) -> dict[str, dict[str, float]]:
    """Record the trained model's fusion calibration: the zero-shot model's, with each dense
    signal moved by how far chance-level scores moved on this library (see
    model_lifecycle/calibration.py). Chance is measured with the library's own captions as
    queries against segments of other videos, in both models."""
    rng = np.random.default_rng(SEED)
    picked = sorted(rng.permutation(len(segments))[:CALIBRATION_SAMPLE].tolist())
    sample = [segments[i] for i in picked]
    texts = [s.transcript or ", ".join(s.tags) for s in sample]
    with_text = [i for i, t in enumerate(texts) if t.strip()]
    owners = np.array([s.video_id for s in sample])
    nulls: list[dict[str, float]] = []
    options = ModelOptions.from_settings(settings)
    for embedder in (zero_shot_embedder(options), checkpoint_embedder(options, checkpoint)):
        video = embedder.embed_video([s.clips for s in sample])
        text = embedder.embed_text([texts[i] for i in with_text]) if with_text else None
        level: dict[str, float] = {}
        if text is not None:
            same = owners[with_text][:, None] == owners[None, :]
            level["video"] = null_quantile(text, video, exclude=same)
            same_text = owners[with_text][:, None] == owners[with_text][None, :]
            level["text"] = null_quantile(text, text, exclude=same_text)
        nulls.append(level)
    start = zero_shot_embedder(ModelOptions.from_settings(settings)).name
    base = calibration_for(settings.home, start)
    data = shifted_calibration(base, nulls[0], nulls[1])
    save_calibration(
        settings.home,
        checkpoint_name(checkpoint),
        data,
        threshold=threshold_for(settings.home, start),
    )
    log.info("calibration of %s: %s (chance levels %s -> %s)", checkpoint, data, *nulls)
    return data
