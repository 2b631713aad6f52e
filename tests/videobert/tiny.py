"""The tiny random VideoBERT configuration the unit tests share (hidden 32, 2 layers, as
transformers' own tests do) (the `one_thread` fixture lives in conftest.py)."""

from __future__ import annotations

from videobert.config import VideoBertConfig

PAD, CLS, SEP, MASK = 0, 1, 2, 3
TEXT_VOCAB = 99
FEATURES, CLASSES = 16, 10


def tiny_config(**overrides: object) -> VideoBertConfig:
    values: dict[str, object] = dict(
        hidden_size=32,
        num_layers=2,
        num_heads=2,
        intermediate_size=37,
        text_vocab_size=TEXT_VOCAB,
        max_position_embeddings=64,
        pad_token_id=PAD,
        cls_token_id=CLS,
        sep_token_id=SEP,
        mask_token_id=MASK,
        feature_dim=FEATURES,
        num_classes=CLASSES,
        max_text_tokens=16,
        max_visual_tokens=8,
        # A sharp class-name mix over few classes (the tests read its exact outputs).
        zero_shot_temperature=2.0,
        zero_shot_top_k=5,
    )
    values.update(overrides)
    return VideoBertConfig(**values)  # type: ignore[arg-type]
