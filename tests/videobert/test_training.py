"""VideoBERT training: masking, augmentations, losses, overfitting, checkpoints and resume."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.videobert.tiny import CLS, MASK, PAD, SEP, tiny_config
from videobert.checkpoint import (
    META_FILE,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from videobert.config import VideoBertConfig
from videobert.kmeans import fit_codebook
from videobert.masking import IGNORE_INDEX, mask_text_and_video
from videobert.model import VideoBert, init_zero_shot, tokenize
from videobert.training import (
    Example,
    collate,
    compute_losses,
    join_neighbours,
    subsample_clips,
    train,
)

# Every test here runs its tiny models on one thread.
pytestmark = pytest.mark.usefixtures("one_thread")

WORDS = 16

GT = 99  # [>] = the text vocabulary size


def tiny_model(**overrides: object) -> VideoBert:
    torch.manual_seed(0)
    return VideoBert(tiny_config(**overrides), WORDS)


def examples(n: int = 8, seed: int = 0, clips: int = 4) -> list[Example]:
    """n aligned pairs: random texts; each video's clips use two visual words of its own (so
    videos are told apart by their words, not by which of 16 shared words they repeat)."""
    rng = np.random.default_rng(seed)
    return [
        Example(
            text_ids=rng.integers(5, 99, 6).tolist(),
            visual_ids=rng.choice([(2 * i) % WORDS, (2 * i + 1) % WORDS], clips).tolist(),
            features=rng.normal(size=(clips, 16)).astype(np.float32),
        )
        for i in range(n)
    ]


# ---------------------------------------------------------------------- masking


def test_masking_never_touches_cls_sep_separator_or_padding_over_many_seeds() -> None:
    model = tiny_model()
    specials = torch.tensor([PAD, CLS, SEP, GT])
    chosen_text = chosen_video = maskable_text = maskable_video = 0
    kinds = {"mask": 0, "random": 0, "kept": 0}
    for seed in range(300):
        g = torch.Generator().manual_seed(seed)
        B, Lt, Lv = (
            3,
            int(torch.randint(1, 10, (1,), generator=g)),
            int(torch.randint(1, 8, (1,), generator=g)),
        )
        text = torch.randint(5, 99, (B, Lt), generator=g)
        text_mask = (torch.arange(Lt)[None] < torch.randint(1, Lt + 1, (B, 1), generator=g)).long()
        video = torch.randint(0, WORDS, (B, Lv), generator=g)
        video_mask = (torch.arange(Lv)[None] < torch.randint(1, Lv + 1, (B, 1), generator=g)).long()
        packed = model.pack(text, text_mask, video, video_mask)
        out = mask_text_and_video(
            packed.input_ids,
            packed.attention_mask,
            packed.token_type_ids,
            special_ids=model.special_ids,
            probability=0.15,
            mask_token_id=MASK,
            text_range=(0, 99),
            visual_range=(100, 100 + WORDS),
            generator=g,
        )
        ids, new = packed.input_ids, out.input_ids
        chosen = out.labels != IGNORE_INDEX
        protected = torch.isin(ids, specials) | (packed.attention_mask == 0)
        assert not (chosen & protected).any()
        assert torch.equal(new[protected], ids[protected])
        assert torch.equal(new[~chosen], ids[~chosen])
        assert torch.equal(out.labels[chosen], ids[chosen])
        assert not (out.replaced & ~chosen).any()
        # nothing special is ever planted, and each side draws from its own vocabulary
        assert not torch.isin(new[chosen], specials).any()
        is_video = packed.token_type_ids == 1
        text_new, video_new = new[chosen & ~is_video], new[chosen & is_video]
        assert ((text_new == MASK) | (text_new < 99)).all()
        assert ((video_new == MASK) | (video_new >= 100)).all()

        maskable = ~protected
        chosen_text += int((chosen & ~is_video).sum())
        chosen_video += int((chosen & is_video).sum())
        maskable_text += int((maskable & ~is_video).sum())
        maskable_video += int((maskable & is_video).sum())
        kinds["mask"] += int((chosen & (new == MASK)).sum())
        kinds["kept"] += int((chosen & (new == ids)).sum())
        kinds["random"] += int((chosen & (new != MASK) & (new != ids)).sum())
    # each side at the configured rate, and BERT's 80/10/10 split
    assert 0.11 < chosen_text / maskable_text < 0.19
    assert 0.11 < chosen_video / maskable_video < 0.19
    total = sum(kinds.values())
    assert 0.72 < kinds["mask"] / total < 0.88
    assert 0.04 < kinds["random"] / total < 0.16


def test_masking_without_visual_words_leaves_the_video_side_alone() -> None:
    model = tiny_model()
    packed = model.pack(torch.randint(5, 99, (4, 6)), None, torch.randn(4, 5, 16))
    out = mask_text_and_video(
        packed.input_ids,
        packed.attention_mask,
        packed.token_type_ids,
        special_ids=model.special_ids,
        probability=0.5,
        mask_token_id=MASK,
        text_range=(0, 99),
        visual_range=None,
        generator=torch.Generator().manual_seed(0),
    )
    video = packed.token_type_ids == 1
    assert (out.labels[video] == IGNORE_INDEX).all()
    assert (out.labels[~video] != IGNORE_INDEX).any()


# ---------------------------------------------------------------------- examples and batches


def test_examples_refuse_what_cannot_be_trained_on() -> None:
    with pytest.raises(ValueError, match="needs text"):
        Example(text_ids=[], visual_ids=[1])
    with pytest.raises(ValueError, match="visual_ids, features or both"):
        Example(text_ids=[5])
    with pytest.raises(ValueError, match="3 visual ids but 2 clip features"):
        Example(text_ids=[5], visual_ids=[1, 2, 3], features=np.zeros((2, 16), np.float32))


def test_joining_neighbours_stays_inside_one_video() -> None:
    a = Example(text_ids=[5, 6], visual_ids=[1], group="v1")
    b = Example(text_ids=[7], visual_ids=[2, 3], group="v1")
    c = Example(text_ids=[8], visual_ids=[4], group="v2")
    joined = join_neighbours([a, b, c], 0, np.random.default_rng(0), probability=1.0, max_extra=2)
    assert list(joined.text_ids) == [5, 6, 7] and list(joined.visual_ids or []) == [1, 2, 3]
    alone = join_neighbours([a, b, c], 1, np.random.default_rng(0), probability=1.0)
    assert alone == b  # its neighbour belongs to another video
    assert join_neighbours([a, b, c], 0, np.random.default_rng(0), probability=0.0) == a


def test_subsampling_keeps_every_rth_clip_and_at_least_one() -> None:
    ex = Example(
        text_ids=[5],
        visual_ids=list(range(12)),
        features=np.arange(12 * 16, dtype=np.float32).reshape(12, 16),
    )
    rates = set()
    for seed in range(60):
        out = subsample_clips(ex, np.random.default_rng(seed))
        ids = list(out.visual_ids or [])
        assert ids and out.features is not None
        step = ids[1] - ids[0] if len(ids) > 1 else 12
        assert ids == list(range(ids[0], 12, step))
        np.testing.assert_array_equal(out.features[:, 0], np.array(ids) * 16.0)
        rates.add(step)
    assert rates == {1, 2, 3, 4, 5}
    single = Example(text_ids=[5], visual_ids=[7])
    assert all(
        subsample_clips(single, np.random.default_rng(s)).visual_ids == [7] for s in range(20)
    )


def test_collate_pads_and_truncates_to_the_configured_lengths() -> None:
    config = tiny_config(max_text_tokens=5, max_visual_tokens=3)
    long = Example(
        text_ids=list(range(5, 15)),
        visual_ids=list(range(6)),
        features=np.ones((6, 16), np.float32),
    )
    short = Example(text_ids=[5], visual_ids=[1], features=np.ones((1, 16), np.float32))
    batch = collate([long, short], config)
    assert batch.text_ids.shape == (2, 5) and batch.text_mask.tolist() == [[1] * 5, [1, 0, 0, 0, 0]]
    assert batch.visual_ids is not None and batch.visual_ids.shape == (2, 3)
    assert batch.features is not None and batch.features.shape == (2, 3, 16)
    assert batch.video_mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    words_only = collate([Example(text_ids=[5], visual_ids=[1])], config)
    assert words_only.features is None
    with pytest.raises(ValueError, match="needs features"):
        words_only.video("continuous")


# ---------------------------------------------------------------------- losses


@pytest.mark.parametrize("video_input", ["continuous", "tokens"])
@pytest.mark.parametrize("size", [1, 5])
def test_every_loss_is_finite(video_input: str, size: int) -> None:
    model = tiny_model(video_input=video_input).train()
    batch = collate(examples(size), model.config)
    losses = compute_losses(model, batch, torch.Generator().manual_seed(0))
    expected = {"text_mlm", "video_mlm", "alignment", "contrastive", "loss"}
    assert expected <= set(losses)
    for name, value in losses.items():
        assert torch.isfinite(value), (name, value)
    losses["loss"].backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_continuous_video_without_visual_words_trains_without_video_mlm() -> None:
    model = tiny_model().train()
    rng = np.random.default_rng(0)
    batch = collate(
        [
            Example(text_ids=[5, 6, 7], features=rng.normal(size=(3, 16)).astype(np.float32))
            for _ in range(4)
        ],
        model.config,
    )
    losses = compute_losses(model, batch, torch.Generator().manual_seed(0))
    assert float(losses["video_mlm"]) == 0.0 and torch.isfinite(losses["loss"])


@pytest.mark.parametrize("video_input", ["continuous", "tokens"])
def test_a_few_hundred_steps_overfit_eight_pairs(video_input: str) -> None:
    data = examples(8)
    model = tiny_model(video_input=video_input)
    train(model, data, steps=800, batch_size=8, lr=3e-3, augment=False, seed=0)
    batch = collate(data, model.config)
    video = batch.video(video_input)
    with torch.no_grad():
        text_vectors = model.embed_text(batch.text_ids, batch.text_mask)
        video_vectors = model.embed_video(video, batch.video_mask)
        t, v = torch.arange(8).repeat_interleave(8), torch.arange(8).repeat(8)
        logits = model.align_logits(
            batch.text_ids[t], batch.text_mask[t], video[v], batch.video_mask[v]
        )
    # contrastive: every text finds its own video first (R@1, text -> video)
    assert ((text_vectors @ video_vectors.T).argmax(1) == torch.arange(8)).all()
    # alignment: every one of the 64 (text, video) pairings is classified right
    accuracy = ((logits > 0) == (t == v)).float().mean()
    assert accuracy == 1.0, logits.view(8, 8)


# ---------------------------------------------------------------------- checkpoints


def tiny_tokenizer() -> object:
    from transformers import BertTokenizer

    words = ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]"] + [f"w{i}" for i in range(94)]
    return BertTokenizer(vocab={w: i for i, w in enumerate(words)})


def test_a_saved_checkpoint_loads_with_identical_outputs(tmp_path: Path) -> None:
    data = examples(6)
    codebook = fit_codebook(
        np.concatenate([e.features for e in data if e.features is not None]), k=4, depth=2
    )
    torch.manual_seed(0)
    model = VideoBert(tiny_config(), codebook.num_words)
    g = torch.Generator().manual_seed(3)
    init_zero_shot(
        model,
        class_embeddings=torch.randn(10, 32, generator=g),
        classifier_weight=torch.randn(10, 16, generator=g),
        classifier_bias=torch.randn(10, generator=g),
        word_class_probs=torch.softmax(torch.randn(codebook.num_words, 10, generator=g), -1),
    )
    data = [
        Example(
            text_ids=e.text_ids,
            features=e.features,
            visual_ids=codebook.assign(e.features).tolist(),
        )
        for e in data
        if e.features is not None
    ]
    tokenizer = tiny_tokenizer()
    train(model, data, steps=3, batch_size=4, lr=1e-3, seed=0)  # weights off their init
    checkpoint_id = save_checkpoint(
        tmp_path / "ckpt", model, codebook=codebook, tokenizer=tokenizer, step=3
    )

    loaded = load_checkpoint(tmp_path / "ckpt")
    assert loaded.step == 3 and loaded.checkpoint_id == checkpoint_id
    assert (
        loaded.model.config == model.config and loaded.model.num_visual_words == codebook.num_words
    )
    batch = collate(data, model.config)
    assert batch.features is not None and batch.visual_ids is not None
    model.eval()
    with torch.no_grad():
        for a, b in [
            (
                model.embed_text(batch.text_ids, batch.text_mask),
                loaded.model.embed_text(batch.text_ids, batch.text_mask),
            ),
            (
                model.embed_video(batch.features, batch.video_mask),
                loaded.model.embed_video(batch.features, batch.video_mask),
            ),
            (
                model.embed_video(batch.visual_ids, batch.video_mask),
                loaded.model.embed_video(batch.visual_ids, batch.video_mask),
            ),
            (
                model.align_logits(
                    batch.text_ids, batch.text_mask, batch.features, batch.video_mask
                ),
                loaded.model.align_logits(
                    batch.text_ids, batch.text_mask, batch.features, batch.video_mask
                ),
            ),
        ]:
            assert torch.equal(a, b)
    # the visual tokenizer and the text tokenizer come back and give the same ids
    assert loaded.codebook is not None
    features = np.random.default_rng(5).normal(size=(50, 16)).astype(np.float32)
    np.testing.assert_array_equal(loaded.codebook.assign(features), codebook.assign(features))
    texts = ["w1 w2 w3", "w90 zz"]
    original = tokenize(tokenizer, texts, 8)
    again = tokenize(loaded.load_tokenizer(), texts, 8)
    assert all(torch.equal(x, y) for x, y in zip(original, again, strict=True))
    # saving the same model again names the same version; another codebook is another version
    assert save_checkpoint(tmp_path / "again", loaded.model, codebook=codebook) == checkpoint_id
    moved = dataclasses.replace(codebook, node_centroids=codebook.node_centroids + 1.0)
    assert save_checkpoint(tmp_path / "other", loaded.model, codebook=moved) != checkpoint_id


def test_a_checkpoint_of_another_format_is_refused_with_its_version(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "ckpt", tiny_model())
    meta = json.loads((tmp_path / "ckpt" / META_FILE).read_text())
    meta["format"] = 99
    (tmp_path / "ckpt" / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="checkpoint format 99; this code reads 1"):
        load_checkpoint(tmp_path / "ckpt")
    with pytest.raises(FileNotFoundError, match="no videobert.json"):
        load_checkpoint(tmp_path)


class _Stop(Exception):
    pass


def test_resuming_after_an_interruption_repeats_the_uninterrupted_run(tmp_path: Path) -> None:
    data = examples(8)
    straight = tiny_model()
    train(straight, data, steps=6, batch_size=4, lr=1e-3, seed=1, checkpoint_dir=tmp_path / "a")

    def stop_at_three(step: int, steps: int, losses: dict[str, float]) -> None:
        if step == 3:
            raise _Stop

    interrupted = tiny_model()
    with pytest.raises(_Stop):
        train(
            interrupted,
            data,
            steps=6,
            batch_size=4,
            lr=1e-3,
            seed=1,
            checkpoint_dir=tmp_path / "b",
            checkpoint_every=3,
            progress=stop_at_three,
        )
    assert latest_checkpoint(tmp_path / "b") == tmp_path / "b" / "step-00000003"
    resumed = tiny_model()
    result = train(
        resumed,
        data,
        steps=6,
        batch_size=4,
        lr=1e-3,
        seed=1,
        checkpoint_dir=tmp_path / "b",
        checkpoint_every=3,
        resume=True,
    )
    assert result.step == 6 and result.checkpoint == tmp_path / "b" / "step-00000006"
    for (name, a), (_, b) in zip(
        straight.state_dict().items(), resumed.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_training_keeps_only_the_newest_checkpoints(tmp_path: Path) -> None:
    steps_seen: list[int] = []
    train(
        tiny_model(),
        examples(4),
        steps=6,
        batch_size=4,
        lr=1e-3,
        checkpoint_dir=tmp_path,
        checkpoint_every=2,
        keep_checkpoints=2,
        progress=lambda step, steps, losses: steps_seen.append(step),
    )
    assert steps_seen == [1, 2, 3, 4, 5, 6]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-00000004", "step-00000006"]


def test_resuming_into_a_differently_configured_model_is_refused(tmp_path: Path) -> None:
    train(tiny_model(), examples(4), steps=1, batch_size=4, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="another config.*'mask_probability': \\(0.15, 0.3\\)"):
        train(
            tiny_model(mask_probability=0.3),
            examples(4),
            steps=2,
            checkpoint_dir=tmp_path,
            resume=True,
        )


@pytest.mark.real_models
def test_a_checkpoint_of_the_shipped_backbone_carries_its_tokenizer_and_reloads_exactly(
    tmp_path: Path,
) -> None:
    from videobert.text import default_text_model_path

    backbone = default_text_model_path()
    torch.manual_seed(0)
    model = VideoBert(VideoBertConfig(backbone=str(backbone), feature_dim=16, num_classes=10), 12)
    save_checkpoint(tmp_path / "ckpt", model.eval())
    loaded = load_checkpoint(tmp_path / "ckpt")
    assert loaded.tokenizer_path is not None
    tokenizer = loaded.load_tokenizer()
    ids, mask = tokenize(tokenizer, ["a dog catches a frisbee", "espresso"], 32)
    assert ids[0, 0] != tokenizer.cls_token_id  # the model adds [CLS]/[SEP] itself
    words = torch.tensor([[0, 5, 11]])
    with torch.no_grad():
        assert torch.equal(model.embed_text(ids, mask), loaded.model.embed_text(ids, mask))
        assert torch.equal(model.embed_video(words), loaded.model.embed_video(words))
