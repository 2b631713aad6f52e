"""The zero-shot model is built once per model version and saved; later processes load it and
get the very vectors and the space name of the one built in memory."""

from __future__ import annotations

import numpy as np
import pytest

import videobert.embedder as embedder_module
from core.settings import Settings
from videobert.locations import zero_shot_folder
from videobert.options import ModelOptions, model_options

pytestmark = pytest.mark.real_models
TEXTS = ["a cat on a sofa", "espresso in a cup", ""]


def clips() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [np.abs(rng.normal(size=(n, 1280))).astype(np.float32) for n in (1, 3)]


def fresh_process() -> None:
    """Forget the models this process built, as a new process would not have them."""
    embedder_module.MODELS.clear("videobert")


def test_the_saved_zero_shot_model_gives_the_vectors_of_one_built_in_memory(tmp_path, monkeypatch):
    settings = Settings(home=tmp_path / "home", device="cpu")
    fresh_process()
    built = embedder_module.zero_shot_embedder(model_options(settings))
    folder = zero_shot_folder(ModelOptions.from_settings(settings))
    assert (folder / "model.safetensors").is_file()

    fresh_process()

    def no_build(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a saved build must be loaded, not built again")

    monkeypatch.setattr(embedder_module, "_build_zero_shot", no_build)
    loaded = embedder_module.zero_shot_embedder(model_options(settings))
    assert loaded is not built and loaded.name == built.name
    np.testing.assert_allclose(loaded.embed_text(TEXTS), built.embed_text(TEXTS), atol=1e-6)
    np.testing.assert_allclose(loaded.embed_video(clips()), built.embed_video(clips()), atol=1e-6)


def test_a_damaged_saved_build_is_built_again(tmp_path):
    settings = Settings(home=tmp_path / "home", device="cpu")
    fresh_process()
    first = embedder_module.zero_shot_embedder(model_options(settings))
    expected = first.embed_text(TEXTS)
    weights = zero_shot_folder(ModelOptions.from_settings(settings)) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # cut in half
    fresh_process()
    again = embedder_module.zero_shot_embedder(model_options(settings))
    assert again.name == first.name
    np.testing.assert_allclose(again.embed_text(TEXTS), expected, atol=1e-6)
    fresh_process()
    assert (
        embedder_module.zero_shot_embedder(model_options(settings)).name == first.name
    )  # saved whole again


def test_each_model_version_has_its_own_saved_build(tmp_path):
    base = ModelOptions.from_settings(Settings(home=tmp_path))
    other = ModelOptions.from_settings(Settings(home=tmp_path, videobert_temperature=5.0))
    assert zero_shot_folder(base) != zero_shot_folder(other)
    assert zero_shot_folder(base) == zero_shot_folder(
        ModelOptions.from_settings(Settings(home=tmp_path))
    )
