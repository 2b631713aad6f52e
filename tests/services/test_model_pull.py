"""``vidsearch models pull``: the one command that reaches the network, here against a stand-in
for the hub (a download function that writes a tiny checkpoint the way huggingface_hub lays out
its cache); the files are checked before the pull says it is done."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.model_pull import PullError, configured_pulls, pull
from tests.tiny_models import tiny_clip
from videobert.model_files import locate_checkpoint


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


def fake_hub(calls: list[str], *, cut: bool = False):
    """A snapshot_download stand-in: the repository's snapshot in the cache's own layout."""

    def download(repo_id: str, *, cache_dir: str, allow_patterns, **_: object) -> str:
        calls.append(repo_id)
        assert "*.safetensors" in allow_patterns and "*.bin" not in allow_patterns
        repo = Path(cache_dir) / f"models--{repo_id.replace('/', '--')}"
        folder = tiny_clip(repo / "snapshots" / "0123abcd")
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text("0123abcd")
        if cut:  # a download cut short
            weights = folder / "model.safetensors"
            weights.write_bytes(weights.read_bytes()[:1000])
        return str(folder)

    return download


def test_a_pull_fetches_into_the_cache_checks_the_files_and_is_not_repeated(hub: Path) -> None:
    calls: list[str] = []
    done = pull("someone/tiny-clip", download=fake_hub(calls))
    assert not done.already and done.folder.is_relative_to(hub)
    assert locate_checkpoint("someone/tiny-clip").folder == done.folder
    again = pull("someone/tiny-clip", download=fake_hub(calls))
    assert again.already and calls == ["someone/tiny-clip"]  # complete: nothing fetched again
    pull("someone/tiny-clip", download=fake_hub(calls), force=True)
    assert len(calls) == 2


def test_a_cut_download_or_an_unreachable_hub_is_one_clear_error(hub: Path) -> None:
    with pytest.raises(PullError, match="model.safetensors is truncated"):
        pull("someone/cut-clip", download=fake_hub([], cut=True))

    def offline(**_: object) -> str:
        raise OSError("network is unreachable")

    with pytest.raises(
        PullError, match="could not fetch 'someone/x': OSError: network is unreachable"
    ):
        pull("someone/x", download=lambda repo_id, **kw: offline(**kw))
    with pytest.raises(PullError, match="is a folder, not a model id"):
        pull(str(hub / "a" / "folder"))


def test_with_no_name_it_fetches_what_the_settings_name(settings, cli, hub, monkeypatch) -> None:
    import huggingface_hub

    assert configured_pulls(settings) == ([], ["facebook/bart-large-cnn"])
    chosen = settings.model_copy(
        update={"vision_model": "google/siglip2-base-patch16-224", "summary_model": "my/bart"}
    )
    assert configured_pulls(chosen) == (["google/siglip2-base-patch16-224", "my/bart"], [])

    def offline(**_: object) -> str:
        raise OSError("network is unreachable")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    # Offline with the defaults: the optional summarizer is said to be missing; the stack starts.
    code, lines = cli("models", "pull")
    assert code == 0 and "optional: summaries are extractive" in lines[-1]
    calls: list[str] = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_hub(calls))
    code, lines = cli("models", "pull", "someone/tiny-clip")
    assert code == 0 and calls == ["someone/tiny-clip"] and "fetched" in lines[-1]
    monkeypatch.setenv("VIDSEARCH_VISION_MODEL", "someone/tiny-clip")
    code, out = cli("models", "--json")
    assert out[0]["slots"][0]["ready"] and out[0]["slots"][0]["model"] == "someone/tiny-clip"
