"""Tiny random-weight checkpoints of the model families users bring (CLIP, SigLIP, SigLIP 2,
BART), saved as a user's local copy would be: ``save_pretrained`` folders with a tokenizer
trained here on a few words by the ``tokenizers`` library. Nothing is downloaded."""

from __future__ import annotations

import json
from pathlib import Path

WORDS = [
    "a",
    "photo",
    "of",
    "the",
    "cat",
    "dog",
    "car",
    "tram",
    "train",
    "street",
    "city",
    "river",
    "sea",
    "beach",
    "snow",
    "people",
    "person",
    "man",
    "woman",
    "talking",
    "crowd",
    "face",
    "sign",
    "text",
    "night",
    "day",
    "sky",
    "space",
    "planet",
    "music",
    "dance",
    "ball",
    "football",
    "game",
    "bird",
    "fish",
    "tree",
    "forest",
    "mountain",
    "road",
    "bus",
    "bicycle",
    "boat",
    "kitchen",
    "food",
    "red",
    "blue",
    "green",
    "query",
    "another",
    "longer",
    "summary",
    "video",
    "scene",
    "shows",
    "with",
    "and",
    "in",
    "on",
    "at",
]


def tiny_tokenizer(folder: Path, *, bos: bool, model_max_length: int) -> dict[str, int]:
    """A word-level tokenizer over WORDS (plus the ImageNet class names' words, so zero-shot
    prompts tokenize), saved as a fast tokenizer; returns its special tokens' ids."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    from videobert.locations import imagenet_class_names

    specials = ["<pad>", "<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    corpus = [" ".join(WORDS)] + list(imagenet_class_names())
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=specials))
    ids = {t: tok.token_to_id(t) for t in specials}
    if bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", special_tokens=[("<s>", ids["<s>"]), ("</s>", ids["</s>"])]
        )
    else:  # SigLIP's tokenizer ends a text with its end token only
        tok.post_processor = processors.TemplateProcessing(
            single="$A </s>", special_tokens=[("</s>", ids["</s>"])]
        )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        model_max_length=model_max_length,
    )
    fast.save_pretrained(folder)
    return ids | {"vocab_size": tok.get_vocab_size()}


def _preprocessor(folder: Path, extra: dict[str, object]) -> None:
    (folder / "preprocessor_config.json").write_text(json.dumps(extra), encoding="utf-8")


def tiny_clip(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPModel

    folder.mkdir(parents=True, exist_ok=True)
    ids = tiny_tokenizer(folder, bos=True, model_max_length=16)
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config={
            "vocab_size": ids["vocab_size"],
            "hidden_size": 32,
            "intermediate_size": 48,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 16,
            "bos_token_id": ids["<s>"],
            "eos_token_id": ids["</s>"],
            "pad_token_id": ids["<pad>"],
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 48,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(folder)
    _preprocessor(
        folder,
        {
            "do_center_crop": True,
            "crop_size": {"height": 32, "width": 32},
            "size": {"shortest_edge": 32},
            "image_mean": [0.48145466, 0.4578275, 0.40821073],
            "image_std": [0.26862954, 0.26130258, 0.27577711],
        },
    )
    return folder


def _siglip_towers(ids: dict[str, int], vision: dict[str, int]) -> dict[str, dict[str, int]]:
    """SigLIP's and SigLIP 2's text and vision configs, 32 wide and 2 deep."""
    layers = {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2}
    return {
        "text_config": layers
        | {
            "num_attention_heads": 4,
            "vocab_size": ids["vocab_size"],
            "max_position_embeddings": 12,
            "pad_token_id": ids["<pad>"],
            "bos_token_id": ids["<s>"],
            "eos_token_id": ids["</s>"],
        },
        "vision_config": layers | {"num_attention_heads": 4} | vision,
    }


def tiny_siglip(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import SiglipConfig, SiglipModel

    folder.mkdir(parents=True, exist_ok=True)
    ids = tiny_tokenizer(folder, bos=False, model_max_length=12)
    torch.manual_seed(seed)
    config = SiglipConfig(**_siglip_towers(ids, {"image_size": 32, "patch_size": 8}))
    SiglipModel(config).save_pretrained(folder)
    _preprocessor(folder, {"size": {"height": 32, "width": 32}})
    return folder


def tiny_siglip2(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import Siglip2Config, Siglip2Model

    folder.mkdir(parents=True, exist_ok=True)
    ids = tiny_tokenizer(folder, bos=False, model_max_length=12)
    torch.manual_seed(seed)
    config = Siglip2Config(**_siglip_towers(ids, {"num_patches": 16, "patch_size": 8}))
    Siglip2Model(config).save_pretrained(folder)
    _preprocessor(folder, {"patch_size": 8, "max_num_patches": 16})
    return folder


def tiny_bart(folder: Path, seed: int = 0) -> Path:
    """A random BART with a 64-token window and the word-level tokenizer (a summarizer)."""
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    folder.mkdir(parents=True, exist_ok=True)
    ids = tiny_tokenizer(folder, bos=True, model_max_length=64)
    torch.manual_seed(seed)
    config = BartConfig(
        vocab_size=ids["vocab_size"],
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=37,
        decoder_ffn_dim=37,
        max_position_embeddings=64,
        pad_token_id=ids["<pad>"],
        bos_token_id=ids["<s>"],
        eos_token_id=ids["</s>"],
        decoder_start_token_id=ids["</s>"],
        forced_eos_token_id=ids["</s>"],
    )
    BartForConditionalGeneration(config).save_pretrained(folder)
    return folder
