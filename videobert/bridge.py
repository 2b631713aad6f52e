"""The class-name bridge: frame class probabilities weighting text embeddings of the class names.

This puts a clip into the text encoder's space with no training, so "a cat" finds a cat video on
a fresh install. It is also the zero-shot baseline VideoBERT must beat.
"""

from __future__ import annotations

import numpy as np


def sharpen(probs: np.ndarray, *, top_k: int, temperature: float) -> np.ndarray:
    """Keep each row's top_k classes, flatten by temperature (p ** (1/T)), renormalise to sum 1."""
    if probs.ndim != 2:
        raise ValueError(f"probs must be (n, classes), got shape {probs.shape}")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    k = min(top_k, probs.shape[1])
    out = np.zeros_like(probs, dtype=np.float32)
    idx = np.argpartition(-probs, k - 1, axis=1)[:, :k]
    rows = np.arange(len(probs))[:, None]
    kept = np.clip(probs[rows, idx], 1e-12, None) ** (1.0 / temperature)
    out[rows, idx] = kept / kept.sum(axis=1, keepdims=True)
    return out


def bridge_vectors(
    probs: np.ndarray, class_vectors: np.ndarray, *, top_k: int, temperature: float
) -> np.ndarray:
    """(n, classes) probabilities x (classes, dim) unit class-name vectors -> (n, dim) unit vectors."""
    if probs.shape[1] != class_vectors.shape[0]:
        raise ValueError(
            f"{probs.shape[1]} class probabilities but {class_vectors.shape[0]} class vectors"
        )
    mixed = sharpen(probs, top_k=top_k, temperature=temperature) @ class_vectors
    norms = np.linalg.norm(mixed, axis=1, keepdims=True)
    return (mixed / np.clip(norms, 1e-12, None)).astype(np.float32)


def top_tags(
    probs: np.ndarray, names: tuple[str, ...] | list[str], *, limit: int, min_probability: float
) -> list[str]:
    """The most likely class names of one probability row, best first, without repeats."""
    tags: list[str] = []
    for i in np.argsort(-probs):
        if len(tags) >= limit or probs[i] < min_probability:
            break
        if names[i] not in tags:
            tags.append(names[i])
    return tags
