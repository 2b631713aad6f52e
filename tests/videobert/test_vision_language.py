"""Vision-language checkpoints a user brings (CLIP, SigLIP, SigLIP 2), on tiny random ones
built here: located in a folder or the local Hugging Face cache, refused in one line when
missing or broken, their towers exported for torch-free queries exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.tiny_models import tiny_clip, tiny_siglip, tiny_siglip2
from videobert.model_files import locate_checkpoint
from videobert.query_encoder import export_query_encoder, load_query_encoder
from videobert.registry import MODELS, ModelCache, ModelMissing
from videobert.vision_language import VisionLanguageEmbedder, VisionLanguageModel, ZeroShotLabels

BUILDERS = {"clip": tiny_clip, "siglip": tiny_siglip, "siglip2": tiny_siglip2}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def checkpoint(request, tmp_path_factory) -> Path:
    return BUILDERS[request.param](tmp_path_factory.mktemp(request.param) / request.param)


def _frames(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (n, 224, 224, 3), dtype=np.uint8)


def test_each_family_embeds_pictures_and_texts_as_unit_vectors(checkpoint: Path) -> None:
    model = VisionLanguageModel(str(checkpoint), torch.device("cpu"), batch_size=2)
    images = model.image_features(_frames(5))  # three batches
    texts = model.text_features(["a cat", "a dog on the street at night", "zzz"])
    assert images.shape == (5, model.dim) and texts.shape == (3, model.dim)
    np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(images[0], images[1])  # the pictures differ, so do their vectors
    # Batching changes nothing: one frame alone gets the vector it got in a batch.
    np.testing.assert_allclose(model.image_features(_frames(5)[3:4])[0], images[3], atol=1e-5)


def test_zero_shot_labels_are_a_distribution_over_the_imagenet_classes(
    checkpoint: Path, tmp_path: Path
) -> None:
    model = VisionLanguageModel(str(checkpoint), torch.device("cpu"))
    labels = ZeroShotLabels(model, tmp_path / "cache", f"vlm:{checkpoint.name}")
    encoded = labels.encode(_frames(2))
    assert encoded.probs.shape == (2, 1000)
    np.testing.assert_allclose(encoded.probs.sum(axis=1), 1.0, atol=1e-4)
    # The class prompts' vectors are kept on disk: a second process reads them back.
    assert len(list((tmp_path / "cache").glob("vlm-classes-*.npy"))) == 1
    again = ZeroShotLabels(model, tmp_path / "cache", f"vlm:{checkpoint.name}")
    np.testing.assert_allclose(again.class_probs(encoded.features), encoded.probs, atol=1e-6)


def test_the_exported_text_tower_gives_the_models_own_vectors(
    checkpoint: Path, tmp_path: Path
) -> None:
    model = VisionLanguageModel(str(checkpoint), torch.device("cpu"))
    embedder = VisionLanguageEmbedder(
        model,
        ZeroShotLabels(model, None, "vlm:test"),
        tags_per_segment=3,
        tag_min_probability=0.5,
    )
    export_query_encoder(embedder, tmp_path / "query")
    encoder = load_query_encoder(tmp_path / "query")
    assert encoder is not None and encoder.name == "vlm:test"
    texts = [
        "a cat",
        "a dog on the street at night",
        "zzz unknownword",
        "a photo of the cat dog car tram train street city river sea beach snow people crowd",
    ]
    np.testing.assert_allclose(encoder.embed_text(texts), model.text_features(texts), atol=1e-5)
    np.testing.assert_allclose(
        encoder.embed_text(texts[1:2]), model.text_features(texts[1:2]), atol=1e-5
    )


def test_a_segment_is_the_mean_of_its_clips_and_matches_are_cosines(checkpoint: Path) -> None:
    model = VisionLanguageModel(str(checkpoint), torch.device("cpu"))
    embedder = VisionLanguageEmbedder(
        model, ZeroShotLabels(model, None, "vlm:t"), tags_per_segment=3, tag_min_probability=0.5
    )
    clips = embedder.encode_frames(_frames(4)).features
    vectors = embedder.embed_video([clips[:3], clips[3:]])
    mean = clips[:3].mean(axis=0)
    np.testing.assert_allclose(vectors[0], mean / np.linalg.norm(mean), atol=1e-5)
    np.testing.assert_allclose(vectors[1], clips[3], atol=1e-5)
    scores = embedder.align_scores("a cat", [clips[:3], clips[3:]])
    np.testing.assert_allclose(scores, vectors @ embedder.embed_text(["a cat"])[0], atol=1e-5)
    assert len(embedder.visual_tags([clips[:3]])) == 1 and len(embedder.class_beliefs([clips])) == 1


def test_a_model_id_is_found_in_the_local_hugging_face_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    repo = cache / "models--someone--tiny-clip"
    tiny_clip(repo / "snapshots" / "abc123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    found = locate_checkpoint("someone/tiny-clip")
    assert found.folder == repo / "snapshots" / "abc123"
    model = VisionLanguageModel("someone/tiny-clip", torch.device("cpu"))
    assert model.locate() == found.folder
    assert model.image_features(_frames(1)).shape[0] == 1


def test_a_missing_model_is_refused_in_one_line_naming_slot_setting_path_and_pull(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelMissing) as missing:
        VisionLanguageModel("google/siglip2-base-patch16-224", torch.device("cpu")).locate()
    line = str(missing.value)
    assert "\n" not in line
    for part in (
        "vision model",
        "VIDSEARCH_VISION_MODEL",
        str(tmp_path / "hub" / "models--google--siglip2-base-patch16-224"),
        "vidsearch models pull google/siglip2-base-patch16-224",
    ):
        assert part in line, line
    with pytest.raises(ModelMissing, match="is not a folder with a config.json"):
        VisionLanguageModel(str(tmp_path / "nothing-here"), torch.device("cpu")).locate()


def test_a_broken_checkpoint_is_refused_before_anything_loads(tmp_path: Path) -> None:
    good = tiny_clip(tmp_path / "good")
    cut = tmp_path / "cut"
    shutil.copytree(good, cut)
    weights = cut / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelMissing, match="broken: model.safetensors is truncated"):
        VisionLanguageModel(str(cut), torch.device("cpu")).locate()

    garbled = tmp_path / "garbled"
    shutil.copytree(good, garbled)
    (garbled / "config.json").write_text("{not json")
    with pytest.raises(ModelMissing, match="config.json is unreadable"):
        VisionLanguageModel(str(garbled), torch.device("cpu")).locate()

    other = tmp_path / "other"
    shutil.copytree(good, other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps(config | {"model_type": "bart"}))
    with pytest.raises(ModelMissing, match="'bart' is not CLIP, SigLIP or SigLIP 2"):
        VisionLanguageModel(str(other), torch.device("cpu")).locate()


def test_the_model_cache_builds_once_per_key_and_forgets_the_oldest_past_its_limit() -> None:
    cache = ModelCache()
    built: list[int] = []

    def make(n: int):
        return lambda: built.append(n) or n

    assert cache.get("g", 1, make(1), limit=2) == 1
    assert cache.get("g", 1, make(99), limit=2) == 1  # built once
    cache.get("g", 2, make(2), limit=2)
    cache.get("g", 3, make(3), limit=2)  # 1 is forgotten
    assert built == [1, 2, 3] and cache.peek("g", 1) is None and cache.peek("g", 3) == 3
    assert MODELS is not cache  # the process's own is separate
