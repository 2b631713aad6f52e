"""The active-model record and the embedder that follows it across swaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings
from model_lifecycle.active import ActiveEmbedder, load_embedder, read_active, write_active
from model_lifecycle.spaces import ModelRef
from tests.videobert.test_embedder import tiny_embedder
from videobert.embedder import BridgeEmbedder, VideoBertEmbedder

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_active_embedder_follows_the_active_model_record(tmp_path: Path, monkeypatch) -> None:
    import model_lifecycle.active as module

    settings = Settings(home=tmp_path)
    built: dict[str | None, VideoBertEmbedder] = {}

    def fake_embedder_for(_settings: object, ref: ModelRef | None) -> VideoBertEmbedder:
        key = ref.checkpoint if ref else None
        if key not in built:
            built[key] = tiny_embedder(name=ref.name if ref else "zero-shot")
        return built[key]

    monkeypatch.setattr(module, "embedder_for", fake_embedder_for)
    active = ActiveEmbedder(settings)
    assert read_active(settings.home) is None and active.name == "zero-shot"
    first = active.embed_text(["w1"])

    write_active(settings.home, ModelRef("videobert:abc:continuous", "models/videobert/run-1/x"))
    assert read_active(settings.home) == ModelRef(
        "videobert:abc:continuous", "models/videobert/run-1/x"
    )
    assert active.name == "videobert:abc:continuous"
    np.testing.assert_allclose(active.embed_text(["w1"]), first, atol=1e-6)  # same tiny model

    write_active(settings.home, None)  # back to the configured (zero-shot) model
    assert active.refresh().name == "zero-shot"
    (tmp_path / "models" / "active.json").write_text("{broken")
    with pytest.raises(ValueError, match="not a readable active-model record"):
        active.refresh()


def test_the_setting_chooses_the_bridge_or_videobert(tmp_path: Path) -> None:
    assert isinstance(load_embedder(Settings(home=tmp_path, embedder="bridge")), BridgeEmbedder)
    assert isinstance(load_embedder(Settings(home=tmp_path)), ActiveEmbedder)
