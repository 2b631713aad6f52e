"""The VideoBERT embedder: vectors, batching, video input modes, alignment scores, weight
mixing; and, with the shipped weights, zero-shot search over package photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.settings import Settings
from tests.videobert.tiny import CLASSES, FEATURES, tiny_config
from videobert.embedder import VideoBertEmbedder, fit_clips
from videobert.kmeans import fit_codebook
from videobert.model import VideoBert, init_zero_shot, tokenize
from videobert.options import model_options
from videobert.zero_shot import HEAD_PREFIXES, mix_with_start

# Every test here runs its tiny models on one thread.
pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_tokenizer() -> object:
    from transformers import BertTokenizer

    words = ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]"] + [f"w{i}" for i in range(94)]
    return BertTokenizer(vocab={w: i for i, w in enumerate(words)})


class FakeFrames:
    """Stands in for the frame encoder: its classes are the first feature dimensions."""

    name = "fake-frames"

    def class_probs(self, features: np.ndarray) -> np.ndarray:
        logits = np.asarray(features, dtype=np.float32)[:, :CLASSES] * 3.0
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)


def segments(seed: int = 0, lengths: tuple[int, ...] = (1, 3, 5, 2)) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, FEATURES)).astype(np.float32) for n in lengths]


def tiny_embedder(
    video_input: str = "continuous", *, alignment_trained: bool = False, name: str = "tiny"
) -> VideoBertEmbedder:
    torch.manual_seed(0)
    codebook = fit_codebook(np.concatenate(segments(1, (40,))), k=4, depth=2)
    model = VideoBert(tiny_config(video_input=video_input), codebook.num_words)
    g = torch.Generator().manual_seed(3)
    init_zero_shot(
        model,
        class_embeddings=torch.randn(CLASSES, 32, generator=g),
        classifier_weight=torch.randn(CLASSES, FEATURES, generator=g),
        classifier_bias=torch.zeros(CLASSES),
        word_class_probs=torch.softmax(torch.randn(codebook.num_words, CLASSES, generator=g), -1),
    )
    return VideoBertEmbedder(
        model=model,
        tokenizer=tiny_tokenizer(),
        codebook=codebook,
        frame_encoder=FakeFrames(),  # type: ignore[arg-type]
        name=name,
        video_input=video_input,
        alignment_trained=alignment_trained,
        tags_per_segment=3,
        tag_min_probability=0.5,
        batch_size=2,
    )


# ---------------------------------------------------------------------- tiny models


@pytest.mark.parametrize("video_input", ["continuous", "tokens"])
def test_video_and_text_vectors_are_unit_vectors_of_one_size(video_input: str) -> None:
    emb = tiny_embedder(video_input)
    video = emb.embed_video(segments())
    text = emb.embed_text(["w1 w2 w3", "w4", ""])
    assert video.shape == (4, 32) and text.shape == (3, 32)
    assert video.dtype == text.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(video, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    assert emb.embed_video([]).shape == emb.embed_text([]).shape == (0, 32)


@pytest.mark.parametrize("video_input", ["continuous", "tokens"])
def test_a_batch_of_segments_embeds_each_one_as_if_alone(video_input: str) -> None:
    emb = tiny_embedder(video_input)  # batch_size 2: segments of 1 and 3 clips share a batch
    segs = segments()
    together = emb.embed_video(segs)
    alone = np.concatenate([emb.embed_video([s]) for s in segs])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    texts = ["w1 w2 w3 w4 w5", "w9", "w7 w8"]
    np.testing.assert_allclose(
        emb.embed_text(texts), np.concatenate([emb.embed_text([t]) for t in texts]), atol=1e-5
    )


def test_tokens_mode_reads_each_clips_visual_word() -> None:
    emb = tiny_embedder("tokens")
    seg = segments()[2]
    assert emb.codebook is not None
    words = torch.from_numpy(emb.codebook.assign(seg, exact=True))[None]
    with torch.no_grad():
        expected = emb.model.embed_video(words)[0].numpy()
    np.testing.assert_allclose(emb.embed_video([seg])[0], expected, atol=1e-6)
    assert not np.allclose(expected, tiny_embedder("continuous").embed_video([seg])[0])


def test_a_long_segment_is_cut_to_the_visual_length_with_clips_spread_evenly() -> None:
    clips = np.arange(20, dtype=np.float32)[:, None].repeat(3, 1)
    kept = fit_clips(clips, 8)
    assert kept.shape == (8, 3) and kept[0, 0] == 0 and kept[-1, 0] == 19
    assert np.all(np.diff(kept[:, 0]) > 0)
    assert fit_clips(clips[:5], 8).shape == (5, 3)
    with pytest.raises(ValueError, match="at least one clip"):
        fit_clips(np.zeros((0, 3)), 8)
    long = segments(0, (30,))  # more clips than max_visual_tokens (8): embeds without error
    assert tiny_embedder().embed_video(long).shape == (1, 32)


def test_alignment_scores_are_the_cosine_until_the_head_is_trained() -> None:
    segs = segments()
    untrained = tiny_embedder()
    scores = untrained.align_scores("w1 w2", segs)
    cosine = untrained.embed_video(segs) @ untrained.embed_text(["w1 w2"])[0]
    np.testing.assert_allclose(scores, cosine, atol=1e-5)

    trained = tiny_embedder(alignment_trained=True)
    scores = trained.align_scores("w1 w2", segs)
    ids, mask = tokenize(trained.tokenizer, ["w1 w2"], 16)
    with torch.no_grad():
        for seg, score in zip(segs, scores, strict=True):
            logit = trained.model.align_logits(ids, mask, torch.from_numpy(seg)[None])
            assert score == pytest.approx(float(torch.sigmoid(logit)[0]), abs=1e-5)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert trained.align_scores("w1", []) == []


def test_a_checkpoint_head_counts_as_trained_only_below_chance_loss() -> None:
    from videobert.embedder import alignment_learnt

    config = tiny_config()
    assert alignment_learnt(100, config, {"losses": {"alignment": 0.2}})
    assert not alignment_learnt(100, config, {"losses": {"alignment": 0.69}})  # chance
    assert not alignment_learnt(0, config, {"losses": {"alignment": 0.2}})
    assert not alignment_learnt(100, tiny_config(alignment_weight=0.0), {"losses": {}})


class ImageNetFrames:
    """A frame encoder over the real 1000 ImageNet classes: a clip's first feature names the
    classes it believes in, spread evenly."""

    name = "fake-imagenet"
    beliefs = {0: [4], 1: [281, 282, 283, 284, 285]}  # a hammerhead; five kinds of cat

    def class_probs(self, features: np.ndarray) -> np.ndarray:
        out = np.full((len(features), 1000), 0.02 / 995, np.float32)
        for row, f in enumerate(np.asarray(features)):
            classes = self.beliefs[int(f[0])]
            out[row, classes] = 0.98 / len(classes)
        return out


def test_visual_tags_are_hedged_over_the_frame_encoders_classes() -> None:
    from videobert.frames import imagenet_class_names

    emb = tiny_embedder()
    emb.frames = ImageNetFrames()  # type: ignore[assignment]
    sure, spread = np.zeros((2, FEATURES), np.float32), np.ones((3, FEATURES), np.float32)
    tags = emb.visual_tags([sure, spread])
    assert tags[0] == [imagenet_class_names()[4]]  # sure of one class: its name
    assert tags[1] == ["cat"]  # unsure which cat: the kind they share


def test_mixing_with_the_start_averages_the_encoder_and_keeps_the_heads() -> None:
    torch.manual_seed(0)
    start = VideoBert(tiny_config(), 8)
    torch.manual_seed(1)
    trained = VideoBert(tiny_config(), 8)
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    mix_with_start(trained, start, 0.25)
    after, base = trained.state_dict(), start.state_dict()
    for key, value in after.items():
        if key.startswith(HEAD_PREFIXES):
            assert torch.equal(value, before[key]), key
        elif value.is_floating_point():
            torch.testing.assert_close(value, 0.75 * base[key] + 0.25 * before[key])
    with pytest.raises(ValueError, match=r"mix weight must be in \(0, 1\], got 0"):
        mix_with_start(trained, start, 0.0)


# ---------------------------------------------------------------------- the shipped weights

# (photo, query): objects a person would type, each the obvious subject of one photo.
PHOTOS = [
    ("skimage:chelsea", "a cat"),
    ("skimage:coffee", "a cup of coffee"),
    ("skimage:rocket", "a rocket"),
    ("skimage:astronaut", "an astronaut"),
    ("skimage:camera", "a man with a camera on a tripod"),
    ("skimage:coins", "coins"),
    ("opencv:butterfly.jpg", "a butterfly"),
    ("opencv:baboon.jpg", "a monkey"),
    ("opencv:orange.jpg", "an orange"),
    ("opencv:apple.jpg", "an apple"),
    ("opencv:messi5.jpg", "a football player"),
    ("opencv:chicky_512.png", "a dog"),
    ("opencv:squirrel_cls.jpg", "a squirrel"),
    ("opencv:smarties.png", "sweets"),
    ("opencv:board.jpg", "a circuit board"),
    ("opencv:HappyFish.jpg", "a fish"),
]


def _photo_frames() -> tuple[np.ndarray, list[str]]:
    from PIL import Image

    from bench.devset import load_photo

    frames, queries = [], []
    for source, query in PHOTOS:
        try:
            photo = load_photo(source)
        except (ImportError, FileNotFoundError):
            continue
        frames.append(np.asarray(Image.fromarray(photo).convert("RGB").resize((224, 224))))
        queries.append(query)
    if len(queries) < 8:
        from tests.conftest import require

        require(False, f"only {len(queries)} package photos available (scikit-image, opencv-doc)")
    return np.stack(frames), queries


def _ranks(embedder, clips: list[np.ndarray], queries: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    scores = embedder.embed_text(queries) @ embedder.embed_video(clips).T
    return [int(np.argsort(-row).tolist().index(i)) for i, row in enumerate(scores)]


@pytest.mark.real_models
def test_zero_shot_videobert_finds_package_photos_and_beats_the_bridge(
    tmp_path: Path, model_cache: Path
) -> None:
    from videobert.embedder import bridge_embedder, zero_shot_embedder

    settings = Settings(home=tmp_path, device="cpu")
    videobert = zero_shot_embedder(model_options(settings))
    frames, queries = _photo_frames()
    clips = [f[None] for f in videobert.encode_frames(frames).features]  # one clip per photo

    vb = _ranks(videobert, clips, queries)
    bridge = bridge_embedder(model_options(settings))
    bridge.cache_dir = model_cache  # class-name vectors once per test session
    br = _ranks(bridge, clips, queries)

    def top1(ranks: list[int]) -> int:
        return sum(r == 0 for r in ranks)

    def mrr(ranks: list[int]) -> float:
        return float(np.mean([1.0 / (r + 1) for r in ranks]))

    detail = f"VideoBERT ranks {vb} vs bridge {br} for {queries}"
    assert top1(vb) >= 0.6 * len(queries), detail  # most objects: their own photo first
    assert top1(vb) >= top1(br) and mrr(vb) > mrr(br), detail


def test_captions_name_the_top_classes_while_people_see_the_hedged_tag() -> None:
    from videobert.frames import imagenet_class_names

    emb = tiny_embedder()
    emb.frames = ImageNetFrames()  # type: ignore[assignment]
    spread = np.ones((3, FEATURES), np.float32)
    names = imagenet_class_names()
    assert emb.visual_tags([spread]) == [["cat"]]
    words = emb.caption_words([spread])[0]
    # Search reads the classes (three breeds) and then the kind they share.
    assert len(words) == 4 and words[-1] == "cat"
    assert set(words[:3]) <= {names[i] for i in ImageNetFrames.beliefs[1]}
    sure = np.zeros((2, FEATURES), np.float32)
    assert emb.caption_words([sure]) == [[names[4]]]  # a class it is sure of is named once
