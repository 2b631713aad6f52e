"""The VideoBERT model: config validation, input format, shapes, heads, zero-shot start.

Tiny random configurations as transformers' own tests use; the one test with the shipped
MiniLM and EfficientNet-Lite0 weights is marked real_models.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tests.videobert.tiny import tiny_config
from videobert.config import VideoBertConfig
from videobert.model import VideoBert, init_zero_shot, sharpen

# Every test here runs its tiny models on one thread.
pytestmark = pytest.mark.usefixtures("one_thread")

WORDS = 16  # visual words in the tiny models


@pytest.fixture
def model() -> VideoBert:
    torch.manual_seed(0)
    return VideoBert(tiny_config(), WORDS).eval()


def text_batch() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0], [11, 0, 0, 0]])
    return ids, (ids != 0).long()


def video_batch(length: int = 3) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    words = torch.randint(0, WORDS, (3, length), generator=g)
    features = torch.randn(3, length, 16, generator=g)
    mask = torch.ones(3, length, dtype=torch.long)
    mask[1, -1] = 0
    return words, features, mask


# ---------------------------------------------------------------------- config


def test_config_refuses_bad_values_and_names_them() -> None:
    with pytest.raises(ValueError, match="hidden size 30 is not a multiple of heads 4"):
        tiny_config(hidden_size=30, num_heads=4)
    with pytest.raises(ValueError, match="'frames'"):
        tiny_config(video_input="frames")
    with pytest.raises(ValueError, match="mask_probability .* got 1.5"):
        tiny_config(mask_probability=1.5)
    with pytest.raises(ValueError, match="16 \\+ max_visual_tokens 60 \\+ 3 = 79"):
        tiny_config(max_visual_tokens=60)
    with pytest.raises(ValueError, match="mask_token_id 120 is outside"):
        tiny_config(mask_token_id=120)
    with pytest.raises(ValueError, match="zero_shot_temperature must be positive, got 0"):
        tiny_config(zero_shot_temperature=0)
    with pytest.raises(ValueError, match="kmeans_k must be at least 2, got 1"):
        tiny_config(kmeans_k=1)


def test_config_round_trips_through_a_dict_and_refuses_unknown_keys() -> None:
    config = tiny_config(projection_dim=24, video_input="tokens")
    assert VideoBertConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown VideoBertConfig keys \\['colour'\\]"):
        VideoBertConfig.from_dict({**config.to_dict(), "colour": "red"})
    assert VideoBertConfig().num_visual_words_max == 144  # k=12, depth=2 by default


# ---------------------------------------------------------------------- vocabulary and format


def test_vocabulary_is_text_then_separator_then_visual_words(model: VideoBert) -> None:
    emb = model.word_embeddings.weight
    assert emb.shape == (99 + 1 + WORDS, 32)
    assert (model.video_sep_id, model.visual_offset) == (99, 100)
    torch.testing.assert_close(emb[99], emb[2])  # [>] starts as [SEP]
    assert model.mlm_bias.shape == (99 + 1 + WORDS,)


def test_pair_format_is_cls_text_separator_video_sep(model: VideoBert) -> None:
    ids, mask = text_batch()
    words, _, vmask = video_batch()
    packed = model.pack(ids, mask, words, vmask)
    # [CLS] + 4 text + [>] + 3 video + [SEP]
    assert packed.input_ids.shape == (3, 1 + 4 + 1 + 3 + 1)
    assert (packed.video_start, packed.video_len) == (6, 3)
    row = packed.input_ids[1]
    assert row[0] == 1 and row[5] == 99 and row[-1] == 2
    assert row[1:3].tolist() == [9, 10] and row[3:5].tolist() == [0, 0]  # text padding
    assert row[6:8].tolist() == (words[1, :2] + 100).tolist() and row[8] == 0  # video padding
    assert packed.token_type_ids[1].tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert packed.attention_mask[1].tolist() == [1, 1, 1, 0, 0, 1, 1, 1, 0, 1]
    # positions count attended tokens only: padding inside the sequence changes nothing
    assert packed.position_ids[1].tolist()[:3] == [0, 1, 2]
    assert packed.position_ids[1, 5] == 3 and packed.position_ids[1, 9] == 6

    text_only = model.pack(ids, mask)
    assert text_only.video_len == 0 and (text_only.token_type_ids == 0).all()
    video_only = model.pack(video=words, video_mask=vmask)
    assert video_only.input_ids[0, :2].tolist() == [1, 99] and video_only.video_start == 2


def test_padding_inside_the_sequence_does_not_change_any_output(model: VideoBert) -> None:
    ids, mask = text_batch()
    words, features, vmask = video_batch()
    padded_ids = torch.cat([ids, torch.zeros(3, 5, dtype=torch.long)], 1)
    padded_mask = torch.cat([mask, torch.zeros(3, 5, dtype=torch.long)], 1)
    padded_feats = torch.cat([features, torch.randn(3, 2, 16)], 1)
    padded_vmask = torch.cat([vmask, torch.zeros(3, 2, dtype=torch.long)], 1)
    with torch.no_grad():
        torch.testing.assert_close(
            model.embed_text(ids, mask), model.embed_text(padded_ids, padded_mask)
        )
        torch.testing.assert_close(
            model.align_logits(ids, mask, features, vmask),
            model.align_logits(padded_ids, padded_mask, padded_feats, padded_vmask),
        )
        torch.testing.assert_close(
            model.embed_video(features, vmask), model.embed_video(padded_feats, padded_vmask)
        )


# ---------------------------------------------------------------------- shapes


@pytest.mark.parametrize("projection_dim", [None, 24, 48])
def test_every_output_has_its_documented_shape(projection_dim: int | None) -> None:
    torch.manual_seed(0)
    model = VideoBert(tiny_config(projection_dim=projection_dim), WORDS).eval()
    P = projection_dim or 32
    ids, mask = text_batch()
    words, features, vmask = video_batch(length=5)
    with torch.no_grad():
        text = model.embed_text(ids, mask)
        by_words = model.embed_video(words, vmask)
        by_features = model.embed_video(features, vmask)
        align = model.align_logits(ids, mask, features, vmask)
        hidden = model.encode(model.pack(ids, mask, words, vmask))
    assert text.shape == by_words.shape == by_features.shape == (3, P)
    for vectors in (text, by_words, by_features):
        torch.testing.assert_close(vectors.norm(dim=1), torch.ones(3))
    assert align.shape == (3,)
    assert hidden.shape == (3, 1 + 4 + 1 + 5 + 1, 32)
    assert model.mlm_logits(hidden[:, 1], "text").shape == (3, 99)
    assert model.mlm_logits(hidden[:, 7], "video").shape == (3, WORDS)
    assert model.feature_embeddings(features).shape == (3, 5, 32)


def test_bad_inputs_are_refused_with_the_offending_values(model: VideoBert) -> None:
    ids, mask = text_batch()
    with pytest.raises(ValueError, match=r"visual word ids must be in \[0, 16\), got min 0 max 16"):
        model.embed_video(torch.tensor([[0, 16]]))
    with pytest.raises(
        ValueError, match=r"clip features must be \(batch, clips, 16\), got \(3, 2, 7\)"
    ):
        model.embed_video(torch.randn(3, 2, 7))
    with pytest.raises(ValueError, match="video batch 2 != text batch 3"):
        model.align_logits(ids, mask, torch.zeros(2, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="exceeds max_position_embeddings 64"):
        model.embed_text(torch.full((1, 70), 5))
    with pytest.raises(ValueError, match="side must be 'text' or 'video', got 'audio'"):
        model.mlm_logits(torch.zeros(1, 32), "audio")


# ---------------------------------------------------------------------- the untrained start


def test_untrained_text_embedding_is_the_backbones_own_mean_pooling(model: VideoBert) -> None:
    ids, mask = text_batch()
    # what a sentence-transformers user does with the same BERT: [CLS] text [SEP], packed
    rows = [[1, *r[m.bool()].tolist(), 2] for r, m in zip(ids, mask, strict=True)]
    width = max(map(len, rows))
    plain = torch.tensor([r + [0] * (width - len(r)) for r in rows])
    att = (torch.arange(width)[None] < torch.tensor([len(r) for r in rows])[:, None]).long()
    with torch.no_grad():
        hidden = model.bert(input_ids=plain, attention_mask=att).last_hidden_state
        expected = F.normalize((hidden * att[..., None]).sum(1) / att.sum(1, keepdim=True), dim=-1)
        torch.testing.assert_close(model.embed_text(ids, mask), expected)


def test_a_wider_projection_keeps_the_cosines_between_texts() -> None:
    torch.manual_seed(0)
    square = VideoBert(tiny_config(), WORDS).eval()
    torch.manual_seed(0)
    wide = VideoBert(tiny_config(projection_dim=48), WORDS).eval()
    ids, mask = text_batch()
    with torch.no_grad():
        a, b = square.embed_text(ids, mask), wide.embed_text(ids, mask)
    torch.testing.assert_close(a @ a.T, b @ b.T)


def test_zero_shot_inputs_are_the_sharpened_mix_of_class_name_embeddings(
    model: VideoBert,
) -> None:
    g = torch.Generator().manual_seed(0)
    class_embeddings = torch.randn(10, 32, generator=g)
    weight = torch.eye(10, 16) * 20.0  # class c fires on feature c
    word_probs = torch.softmax(torch.randn(WORDS, 10, generator=g) * 3, dim=-1)
    init_zero_shot(
        model,
        class_embeddings=class_embeddings,
        classifier_weight=weight,
        classifier_bias=torch.zeros(10),
        word_class_probs=word_probs,
    )
    # a clip whose features say "class 3" reads as (almost exactly) class 3's name
    clip = torch.zeros(1, 16)
    clip[0, 3] = 1.0
    with torch.no_grad():
        torch.testing.assert_close(
            model.feature_embeddings(clip)[0], class_embeddings[3], atol=1e-3, rtol=1e-3
        )
        # each visual word's input row is its probabilities' mix, with the same top-k and T
        mix = sharpen(word_probs, top_k=5, temperature=2.0) @ class_embeddings
        torch.testing.assert_close(model.word_embeddings.weight[100:], mix)
        # the learned projection starts at zero: it adds nothing until trained
        assert model.feature_proj.weight.abs().sum() == 0
    with pytest.raises(ValueError, match=r"classifier_bias has shape \(9,\), expected \(10,\)"):
        init_zero_shot(
            model,
            class_embeddings=class_embeddings,
            classifier_weight=weight,
            classifier_bias=torch.zeros(9),
        )


def test_sharpen_matches_the_bridge_in_numpy() -> None:
    from videobert.bridge import sharpen as numpy_sharpen

    probs = torch.softmax(torch.randn(4, 30, generator=torch.Generator().manual_seed(0)), -1)
    torch.testing.assert_close(
        sharpen(probs, top_k=5, temperature=2.0),
        torch.from_numpy(numpy_sharpen(probs.numpy(), top_k=5, temperature=2.0)),
    )


# ---------------------------------------------------------------------- real weights


@pytest.mark.real_models
def test_shipped_minilm_zero_shot_matches_minilm_and_puts_a_cat_clip_near_a_cat() -> None:
    from transformers import AutoTokenizer

    from videobert.frames import FrameEncoder, imagenet_class_names
    from videobert.kmeans import imagenet_codebook
    from videobert.model import tokenize, zero_shot_model
    from videobert.text import TextEncoder, default_text_model_path

    path = default_text_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    fc = FrameEncoder().load()._fc
    weight, bias = fc.weight.detach().float(), fc.bias.detach().float()
    names = imagenet_class_names()
    codebook = imagenet_codebook(weight.numpy(), names)
    model = zero_shot_model(
        VideoBertConfig(backbone=str(path)),
        tokenizer=tokenizer,
        class_names=names,
        classifier_weight=weight,
        classifier_bias=bias,
        codebook_centroids=torch.from_numpy(codebook.centroids),
    )
    assert model.text_vocab_size == 30522 and model.num_visual_words == 1000

    sentences = ["a man is riding a bicycle down a busy street", "a cat", "a truck"]
    ids, mask = tokenize(tokenizer, sentences, 128)
    with torch.no_grad():
        text = model.embed_text(ids, mask)
    minilm = torch.from_numpy(TextEncoder(path).encode(sentences))
    assert ((text * minilm).sum(1) > 0.95).all()

    tabby = names.index("tabby cat")
    clip = weight[tabby] * 3.0  # features that excite "tabby cat" above all (p ~ 0.98)
    assert int(torch.softmax(clip @ weight.T + bias, -1).argmax()) == tabby
    word = codebook.assign(clip[None].numpy())
    with torch.no_grad():
        for video in (clip[None, None], torch.from_numpy(word)[None]):  # continuous, tokens
            v = model.embed_video(video)[0]
            assert v @ text[1] > v @ text[2] + 0.1, (float(v @ text[1]), float(v @ text[2]))
