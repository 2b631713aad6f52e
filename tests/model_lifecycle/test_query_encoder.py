"""The active model's text tower, exported once: queries embedded without torch, with the
model's own vectors, following swaps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings
from model_lifecycle.active import (
    QueryEmbedder,
    ensure_query_encoder,
    load_embedder,
    prepare_query_encoder,
)
from model_lifecycle.spaces import ModelRef
from videobert.locations import query_encoder_folder

pytestmark = pytest.mark.real_models
REPO = Path(__file__).resolve().parents[2]
TEXTS = [
    "a cat on a sofa",
    "",
    "кофе コーヒー café ☕",
    "a very long query " * 60,  # past the model's 128 text tokens: cut the same way
    "Espresso!! at 7:30, please.",
]


@pytest.fixture
def home(tmp_path):
    settings = Settings(home=tmp_path / "home", device="cpu")
    prepare_query_encoder(settings)
    return settings


def test_the_exported_text_tower_gives_the_models_own_vectors(home):
    full = load_embedder(home).current()
    encoder = ensure_query_encoder(home.home, full)
    assert encoder is not None and encoder.name == full.name
    np.testing.assert_allclose(encoder.embed_text(TEXTS), full.embed_text(TEXTS), atol=1e-5)
    for text in TEXTS:  # one at a time too: padding must not change a vector
        np.testing.assert_allclose(encoder.embed_text([text]), full.embed_text([text]), atol=1e-5)


def test_a_search_process_embeds_queries_without_importing_torch(home):
    script = (
        "import sys, json\n"
        "from core.settings import Settings\n"
        "from model_lifecycle.active import QueryEmbedder\n"
        f"e = QueryEmbedder(Settings(home={str(home.home)!r}, device='cpu'))\n"
        "v = e.embed_text(['a cat on a sofa'])\n"
        "heavy = [m for m in ('torch', 'transformers', 'av', 'faster_whisper', 'celery')"
        " if m in sys.modules]\n"
        "print(json.dumps({'name': e.name, 'heavy': heavy, 'vector': v[0].tolist()}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDSEARCH_")}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env | {"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    full = load_embedder(home).current()
    assert got["heavy"] == [] and got["name"] == full.name
    np.testing.assert_allclose(got["vector"], full.embed_text(["a cat on a sofa"])[0], atol=1e-5)


def test_the_query_embedder_follows_a_swap_to_the_new_models_export(home, monkeypatch):
    from model_lifecycle.active import write_active

    embedder = QueryEmbedder(home)
    zero_shot = embedder.name
    before = embedder.embed_text(["a red car"])
    # Another model becomes active; its export is the zero-shot one's, renamed, scaled so the
    # test can tell which one answered.
    trained = "videobert:trained-for-test:continuous"
    source = query_encoder_folder(home.home, zero_shot)
    target = query_encoder_folder(home.home, trained)
    target.mkdir(parents=True)
    for f in source.iterdir():
        (target / f.name).write_bytes(f.read_bytes())
    record = json.loads((target / "query_encoder.json").read_text())
    (target / "query_encoder.json").write_text(json.dumps(record | {"name": trained}))
    write_active(home.home, ModelRef(trained, "models/videobert/run-x/final"))
    assert embedder.name == trained
    np.testing.assert_allclose(embedder.embed_text(["a red car"]), before, atol=1e-6)
    write_active(home.home, None)
    assert embedder.name == zero_shot
