"""VideoBERT training: examples, the paper's augmentations, the four losses, and the loop.

Per step, one batch of aligned (text, video) examples gives:
- text MLM and video MLM on ``[CLS] text [>] video [SEP]`` with text and visual tokens masked
  separately (the paper's mask completion; masked words can be read off the other modality);
- alignment on the same forward pass: each text also meets one other example's video (the
  paper's random-pairing negatives) and the [CLS] classifier says which;
- symmetric InfoNCE on the dual-encoder embeddings (text only / video only), the objective
  that makes the vectors stored in the index comparable across modalities.

Determinism: every random draw of step s comes from (seed, s) -- sampling, augmentation,
masking, negatives and dropout (torch's global generator is reseeded per step) -- so on CPU a
run resumed from a checkpoint repeats the uninterrupted run exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from videobert.checkpoint import (
    latest_checkpoint,
    load_training_state,
    prune_checkpoints,
    save_checkpoint,
    step_dir,
)
from videobert.config import VideoBertConfig
from videobert.kmeans import Codebook
from videobert.masking import IGNORE_INDEX, mask_text_and_video
from videobert.model import VideoBert

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, dict[str, float]], None]


@dataclass(frozen=True)
class Example:
    """One aligned segment: its text and its clips (visual words, features, or both).

    ``group`` names the video it came from: neighbouring examples (list order) of one group may
    be joined by the augmentation, as neighbouring sentences of one video are in the paper.
    """

    text_ids: Sequence[int]  # WordPiece ids without [CLS]/[SEP]
    visual_ids: Sequence[int] | None = None  # (clips,) codebook words
    features: np.ndarray | None = None  # (clips, feature_dim)
    group: str | None = None

    def __post_init__(self) -> None:
        if len(self.text_ids) == 0:
            raise ValueError("an example needs text (got no token ids)")
        if self.visual_ids is None and self.features is None:
            raise ValueError("an example needs visual_ids, features or both")
        if self.features is not None and self.features.ndim != 2:
            raise ValueError(f"features must be (clips, dim), got shape {self.features.shape}")
        if self.num_clips == 0:
            raise ValueError("an example needs at least one clip")
        if (
            self.visual_ids is not None
            and self.features is not None
            and len(self.visual_ids) != len(self.features)
        ):
            raise ValueError(
                f"{len(self.visual_ids)} visual ids but {len(self.features)} clip features"
            )

    @property
    def num_clips(self) -> int:
        if self.visual_ids is not None:
            return len(self.visual_ids)
        return 0 if self.features is None else len(self.features)


# ---------------------------------------------------------------------- augmentations


def join_neighbours(
    examples: Sequence[Example],
    index: int,
    rng: np.random.Generator,
    *,
    probability: float = 0.5,
    max_extra: int = 2,
) -> Example:
    """With ``probability``, join example ``index`` with up to ``max_extra`` following examples
    of the same group (text after text, clips after clips)."""
    first = examples[index]
    if first.group is None or rng.random() >= probability:
        return first
    extra = int(rng.integers(1, max_extra + 1))
    parts = [first]
    j = index + 1
    while len(parts) <= extra and j < len(examples) and examples[j].group == first.group:
        parts.append(examples[j])
        j += 1
    if len(parts) == 1:
        return first
    words = [p.visual_ids for p in parts if p.visual_ids is not None]
    feats = [p.features for p in parts if p.features is not None]
    return Example(
        text_ids=[t for p in parts for t in p.text_ids],
        # a side that some part lacks is dropped rather than misaligned with the other
        visual_ids=[v for w in words for v in w] if len(words) == len(parts) else None,
        features=np.concatenate(feats) if len(feats) == len(parts) else None,
        group=first.group,
    )


def subsample_clips(example: Example, rng: np.random.Generator, *, max_rate: int = 5) -> Example:
    """Keep every r-th clip, r drawn from 1..max_rate, from a random offset (the paper's
    variable-speed augmentation); at least one clip always stays."""
    rate = int(rng.integers(1, max_rate + 1))
    n = example.num_clips
    offset = int(rng.integers(0, min(rate, n)))
    keep = np.arange(offset, n, rate).tolist()
    return Example(
        text_ids=example.text_ids,
        visual_ids=None if example.visual_ids is None else [example.visual_ids[i] for i in keep],
        features=None if example.features is None else example.features[keep],
        group=example.group,
    )


# ---------------------------------------------------------------------- batches


@dataclass(frozen=True)
class Batch:
    text_ids: torch.Tensor  # (batch, text_len)
    text_mask: torch.Tensor  # (batch, text_len)
    video_mask: torch.Tensor  # (batch, clips)
    visual_ids: torch.Tensor | None = None  # (batch, clips)
    features: torch.Tensor | None = None  # (batch, clips, feature_dim)

    @property
    def size(self) -> int:
        return int(self.text_ids.shape[0])

    def video(self, mode: str) -> torch.Tensor:
        """What the model reads on the video side: features ("continuous") or words ("tokens")."""
        picked = self.features if mode == "continuous" else self.visual_ids
        if picked is None:
            raise ValueError(
                f"video input {mode!r} needs {'features' if mode == 'continuous' else 'visual_ids'} in every example"
            )
        return picked

    def to(self, device: torch.device | str) -> Batch:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device)

        return Batch(
            text_ids=self.text_ids.to(device),
            text_mask=self.text_mask.to(device),
            video_mask=self.video_mask.to(device),
            visual_ids=move(self.visual_ids),
            features=move(self.features),
        )

    def pairs(self, text_index: torch.Tensor, video_index: torch.Tensor) -> Batch:
        """Row i pairs text ``text_index[i]`` with video ``video_index[i]`` (negatives)."""
        return Batch(
            text_ids=self.text_ids[text_index],
            text_mask=self.text_mask[text_index],
            video_mask=self.video_mask[video_index],
            visual_ids=None if self.visual_ids is None else self.visual_ids[video_index],
            features=None if self.features is None else self.features[video_index],
        )


def collate(examples: Sequence[Example], config: VideoBertConfig) -> Batch:
    """Pad and truncate (text to max_text_tokens, clips to max_visual_tokens) into tensors."""
    if not examples:
        raise ValueError("cannot collate an empty list of examples")
    texts = [list(e.text_ids)[: config.max_text_tokens] for e in examples]
    clips = [min(e.num_clips, config.max_visual_tokens) for e in examples]
    B, Lt, Lv = len(examples), max(map(len, texts)), max(clips)
    text_ids = torch.full((B, Lt), config.pad_token_id, dtype=torch.long)
    text_mask = torch.zeros(B, Lt, dtype=torch.long)
    video_mask = torch.zeros(B, Lv, dtype=torch.long)
    for i, (t, n) in enumerate(zip(texts, clips, strict=True)):
        text_ids[i, : len(t)] = torch.tensor(t, dtype=torch.long)
        text_mask[i, : len(t)] = 1
        video_mask[i, :n] = 1

    # A side goes into the batch only when every example has it.
    words = [e.visual_ids for e in examples if e.visual_ids is not None]
    feats = [e.features for e in examples if e.features is not None]
    visual_ids = features = None
    if len(words) == B:
        visual_ids = torch.zeros(B, Lv, dtype=torch.long)
        for i, (w, n) in enumerate(zip(words, clips, strict=True)):
            visual_ids[i, :n] = torch.tensor(list(w)[:n], dtype=torch.long)
    if len(feats) == B:
        features = torch.zeros(B, Lv, config.feature_dim)
        for i, (f, n) in enumerate(zip(feats, clips, strict=True)):
            if f.shape[1] != config.feature_dim:
                raise ValueError(
                    f"example {i} has {f.shape[1]}-d features, config feature_dim is "
                    f"{config.feature_dim}"
                )
            features[i, :n] = torch.from_numpy(np.asarray(f[:n], dtype=np.float32))
    return Batch(text_ids, text_mask, video_mask, visual_ids, features)


# ---------------------------------------------------------------------- losses


def _zero(model: VideoBert) -> torch.Tensor:
    return torch.zeros((), device=model.device)


def negative_partners(size: int, generator: torch.Generator) -> torch.Tensor:
    """(size,) another row for every row, at random: the video each text meets as a negative.

    Shifting a random permutation by s in [1, size) moves every row off itself. (Drawing the
    partner by the dual encoder's similarity instead -- ALBEF's hard negatives -- measured
    worse on small batches: the same few confusable videos were drawn again and again.)
    """
    if size < 2:
        raise ValueError(f"negatives need at least 2 examples in a batch, got {size}")
    order = torch.randperm(size, generator=generator, device=generator.device).cpu()
    shift = int(torch.randint(1, size, (1,), generator=generator, device=generator.device))
    partner = torch.empty_like(order)
    partner[order] = order.roll(-shift)
    return partner


def pair_losses(
    model: VideoBert, batch: Batch, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """Text MLM, video MLM and alignment from one forward pass over masked pairs.

    Every text is paired with its own video and with one other video of the batch (see
    ``negative_partners``): a balanced 1:1 version of the paper's random-pairing negatives.
    On the tiny overfit test, giving a random half of the texts a wrong video instead left
    alignment at 72-86% after 1,000 steps; this reaches 100% in 600-800.
    """
    cfg = model.config
    B = batch.size
    rows = torch.arange(B)
    if B >= 2:
        partner = negative_partners(B, generator)
        text_index, video_index = torch.cat([rows, rows]), torch.cat([rows, partner])
    else:
        text_index = video_index = rows
    aligned = (text_index == video_index).to(model.device)
    pairs = batch.pairs(text_index.to(model.device), video_index.to(model.device))

    packed = model.pack(
        pairs.text_ids,
        pairs.text_mask,
        pairs.video(cfg.video_input),
        pairs.video_mask,
        visual_ids=pairs.visual_ids if cfg.video_input == "continuous" else None,
    )
    has_words = pairs.visual_ids is not None
    masked = mask_text_and_video(
        packed.input_ids,
        packed.attention_mask,
        packed.token_type_ids,
        special_ids=model.special_ids,
        probability=cfg.mask_probability,
        mask_token_id=cfg.mask_token_id,
        text_range=(0, model.text_vocab_size),
        visual_range=(model.visual_offset, model.visual_offset + model.num_visual_words)
        if has_words
        else None,
        generator=generator,
    )
    use_features = packed.use_features
    if use_features is not None:
        # A masked clip must not show its own features: [MASK] / the random word replaces them.
        s, n = packed.video_start, packed.video_len
        use_features = use_features & ~masked.replaced[:, s : s + n]
    hidden = model.encode(packed.replace(input_ids=masked.input_ids, use_features=use_features))

    labels, types = masked.labels, packed.token_type_ids
    out: dict[str, torch.Tensor] = {}
    text_pos = (labels != IGNORE_INDEX) & (types == 0)
    video_pos = (labels != IGNORE_INDEX) & (types == 1)
    out["text_mlm"] = (
        F.cross_entropy(model.mlm_logits(hidden[text_pos], "text").float(), labels[text_pos])
        if text_pos.any()
        else _zero(model)
    )
    out["video_mlm"] = (
        F.cross_entropy(
            model.mlm_logits(hidden[video_pos], "video").float(),
            labels[video_pos] - model.visual_offset,
        )
        if video_pos.any()
        else _zero(model)
    )
    logits = model.align_from_hidden(hidden).float()  # (batch,)
    out["alignment"] = F.binary_cross_entropy_with_logits(logits, aligned.float())
    out["alignment_accuracy"] = ((logits > 0) == aligned).float().mean().detach()
    return out


def contrastive_loss(model: VideoBert, batch: Batch) -> dict[str, torch.Tensor]:
    """Symmetric InfoNCE between text-only and video-only embeddings of the same examples."""
    text = model.embed_text(batch.text_ids, batch.text_mask)  # (batch, proj)
    video = model.embed_video(batch.video(model.config.video_input), batch.video_mask)
    logits = text @ video.T / model.config.contrastive_temperature  # (batch, batch)
    target = torch.arange(batch.size, device=logits.device)
    loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
    r1 = (logits.argmax(1) == target).float().mean().detach()
    return {"contrastive": loss, "text_to_video_r1": r1}


def compute_losses(
    model: VideoBert, batch: Batch, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """Every loss and metric; ``loss`` is their weighted sum (a zero weight skips its work)."""
    cfg = model.config
    out: dict[str, torch.Tensor] = {}
    if cfg.text_mlm_weight or cfg.video_mlm_weight or cfg.alignment_weight:
        out.update(pair_losses(model, batch, generator))
    if cfg.contrastive_weight:
        out.update(contrastive_loss(model, batch))
    total = _zero(model)
    for name, weight in (
        ("text_mlm", cfg.text_mlm_weight),
        ("video_mlm", cfg.video_mlm_weight),
        ("alignment", cfg.alignment_weight),
        ("contrastive", cfg.contrastive_weight),
    ):
        if weight and name in out:
            total = total + weight * out[name]
    out["loss"] = total
    return out


# ---------------------------------------------------------------------- the loop


@dataclass(frozen=True)
class TrainResult:
    step: int
    losses: dict[str, float]  # the last step's
    checkpoint: Path | None


def _step_seed(seed: int, step: int) -> int:
    return (seed * 1_000_003 + step) % (2**63)


def learning_rate(step: int, steps: int, *, lr: float, warmup_steps: int) -> float:
    """BERT's schedule: linear warmup, then linear decay to zero at ``steps``. A function of
    the step alone, so a resumed run follows the same curve."""
    if warmup_steps and step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    return lr * max(0.0, (steps - step) / max(1, steps - warmup_steps))


def make_batch(
    examples: Sequence[Example],
    config: VideoBertConfig,
    rng: np.random.Generator,
    *,
    batch_size: int,
    augment: bool,
) -> Batch:
    """Sample a batch without replacement, with the paper's augmentations when ``augment``."""
    idx = rng.choice(len(examples), size=min(batch_size, len(examples)), replace=False)
    picked = []
    for i in sorted(int(i) for i in idx):
        ex = examples[i]
        if augment:
            ex = subsample_clips(join_neighbours(examples, i, rng), rng)
        picked.append(ex)
    return collate(picked, config)


def train(
    model: VideoBert,
    examples: Sequence[Example],
    *,
    steps: int,
    batch_size: int = 32,
    lr: float = 5e-5,
    weight_decay: float = 0.01,
    warmup_steps: int = 0,
    device: torch.device | str | None = None,
    seed: int = 0,
    augment: bool = True,
    progress: ProgressCallback | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 0,
    keep_checkpoints: int = 2,
    resume: bool = False,
    codebook: Codebook | None = None,
    tokenizer: Any = None,
    grad_clip: float = 1.0,
) -> TrainResult:
    """Train ``model`` for ``steps`` optimizer steps in total (AdamW; bf16 autocast on CUDA).

    Checkpoints go to ``checkpoint_dir/step-NNNNNNNN`` every ``checkpoint_every`` steps (0:
    only at the end), keeping the newest ``keep_checkpoints``; they carry ``codebook`` and
    ``tokenizer`` so a checkpoint alone can embed. ``resume`` continues from the newest one
    there (weights, optimizer, step); the learning-rate schedule is a function of the step and
    ``steps``, so resume with the same ``steps`` to repeat the uninterrupted run.
    ``progress(step, steps, losses)`` follows every step.
    """
    if steps < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(
            f"steps, batch_size and lr must be positive, got {steps}, {batch_size}, {lr}"
        )
    if not examples:
        raise ValueError("no training examples")
    dev = torch.device(device) if device is not None else model.device
    model.to(dev).train()
    optimizer = _optimizer(model, lr=lr, weight_decay=weight_decay)
    start = 0
    if resume:
        if checkpoint_dir is None:
            raise ValueError("resume needs a checkpoint_dir")
        latest = latest_checkpoint(checkpoint_dir)
        if latest is not None:
            start = load_training_state(latest, model, optimizer)
            log.info("resuming from %s at step %d", latest, start)

    last: dict[str, float] = {}
    saved: Path | None = None
    for step in range(start, steps):
        torch.manual_seed(_step_seed(seed, step))  # dropout
        rng = np.random.default_rng([seed, step])
        generator = torch.Generator().manual_seed(_step_seed(seed, step))
        batch = make_batch(examples, model.config, rng, batch_size=batch_size, augment=augment)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, steps, lr=lr, warmup_steps=warmup_steps)
        last = _optimizer_step(model, optimizer, batch.to(dev), generator, step, grad_clip)
        done = step + 1
        if checkpoint_dir is not None and (
            done == steps or (checkpoint_every and done % checkpoint_every == 0)
        ):
            saved = step_dir(checkpoint_dir, done)
            save_checkpoint(
                saved,
                model,
                codebook=codebook,
                optimizer=optimizer,
                step=done,
                tokenizer=tokenizer,
                extra={"seed": seed, "lr": lr, "batch_size": batch_size, "losses": last},
            )
            prune_checkpoints(checkpoint_dir, keep_checkpoints)
        if (
            progress is not None
        ):  # after the checkpoint: a callback that stops the run loses nothing
            progress(done, steps, last)
    model.eval()
    return TrainResult(step=max(start, steps), losses=last, checkpoint=saved)


def _optimizer(model: VideoBert, *, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW where matrices decay and biases and norm scales (1-d) do not, as in BERT."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=lr,
    )


def _optimizer_step(
    model: VideoBert,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    generator: torch.Generator,
    step: int,
    grad_clip: float,
) -> dict[str, float]:
    """One step on one batch (bf16 autocast on CUDA); its losses. A non-finite loss stops the
    run before it reaches the weights."""
    dev = batch.text_ids.device
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
        losses = compute_losses(model, batch, generator)
    loss = losses["loss"]
    if not torch.isfinite(loss):
        values = {k: float(v.detach()) for k, v in losses.items()}
        raise FloatingPointError(f"non-finite loss at step {step}: {values}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return {k: float(v.detach()) for k, v in losses.items()}
