"""Masking for masked-token modelling: BERT's 80/10/10 rule as pure functions on tensors.

Only ordinary tokens are ever chosen: never [CLS], [SEP], [>] or padding. Text positions and
video positions are chosen separately (each at the same rate, each replaced from its own side
of the vocabulary), so a short text beside a long video still gets its share of masks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

IGNORE_INDEX = -100  # what torch's cross_entropy skips


@dataclass(frozen=True)
class Masked:
    input_ids: torch.Tensor  # (batch, seq) ids after masking
    labels: torch.Tensor  # (batch, seq) original id where chosen, IGNORE_INDEX elsewhere
    # (batch, seq) True where the input no longer shows the original token ([MASK] or a random
    # word): a continuous video input there must give way to the id's embedding.
    replaced: torch.Tensor


def maskable_positions(
    input_ids: torch.Tensor, attention_mask: torch.Tensor, special_ids: Sequence[int]
) -> torch.Tensor:
    """(batch, seq) bool: attended positions that hold no special token."""
    special = torch.isin(input_ids, torch.tensor(list(special_ids), device=input_ids.device))
    return attention_mask.bool() & ~special


def mask_tokens(
    input_ids: torch.Tensor,
    maskable: torch.Tensor,
    *,
    probability: float,
    mask_token_id: int,
    random_range: tuple[int, int],
    forbidden_ids: Sequence[int] = (),
    generator: torch.Generator | None = None,
) -> Masked:
    """Choose each maskable position with ``probability``; of those, 80% become [MASK], 10% a
    random id from ``random_range`` (half-open; an id in ``forbidden_ids`` becomes [MASK]
    instead, so no special token is ever planted), 10% stay as they are."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"mask probability must be in (0, 1), got {probability}")
    low, high = random_range
    if high <= low:
        raise ValueError(f"random_range must be non-empty, got {random_range}")
    if maskable.shape != input_ids.shape:
        raise ValueError(f"maskable {tuple(maskable.shape)} != input_ids {tuple(input_ids.shape)}")
    # Draw on the generator's device, then move: the same seed gives the same masks anywhere.
    gen_device = generator.device if generator is not None else torch.device("cpu")
    shape = input_ids.shape
    draw = torch.rand(shape, generator=generator, device=gen_device).to(input_ids.device)
    kind = torch.rand(shape, generator=generator, device=gen_device).to(input_ids.device)
    random_ids = torch.randint(low, high, shape, generator=generator, device=gen_device)
    random_ids = random_ids.to(input_ids.device)
    if forbidden_ids:
        bad = torch.isin(random_ids, torch.tensor(list(forbidden_ids), device=input_ids.device))
        random_ids = torch.where(bad, torch.full_like(random_ids, mask_token_id), random_ids)

    chosen = maskable & (draw < probability)
    to_mask = chosen & (kind < 0.8)
    to_random = chosen & (kind >= 0.8) & (kind < 0.9)
    out = torch.where(to_mask, torch.full_like(input_ids, mask_token_id), input_ids)
    out = torch.where(to_random, random_ids, out)
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE_INDEX))
    return Masked(input_ids=out, labels=labels, replaced=to_mask | to_random)


def mask_text_and_video(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    token_type_ids: torch.Tensor,
    *,
    special_ids: Sequence[int],
    probability: float,
    mask_token_id: int,
    text_range: tuple[int, int],
    visual_range: tuple[int, int] | None,
    generator: torch.Generator | None = None,
) -> Masked:
    """Mask a packed sequence: text (token type 0) and video (type 1) positions separately.

    ``visual_range`` None leaves the video side untouched (continuous inputs without visual
    words have nothing to predict).
    """
    maskable = maskable_positions(input_ids, attention_mask, special_ids)
    is_video = token_type_ids == 1
    text = mask_tokens(
        input_ids,
        maskable & ~is_video,
        probability=probability,
        mask_token_id=mask_token_id,
        random_range=text_range,
        forbidden_ids=special_ids,
        generator=generator,
    )
    if visual_range is None:
        return text
    video = mask_tokens(
        input_ids,
        maskable & is_video,
        probability=probability,
        mask_token_id=mask_token_id,
        random_range=visual_range,
        generator=generator,
    )
    return Masked(
        input_ids=torch.where(is_video, video.input_ids, text.input_ids),
        labels=torch.where(is_video, video.labels, text.labels),
        replaced=torch.where(is_video, video.replaced, text.replaced),
    )
