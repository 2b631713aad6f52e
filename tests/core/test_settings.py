from pathlib import Path

import pytest

from core.settings import Settings, SettingsError, load_settings


def test_defaults_put_the_catalog_under_home(tmp_path: Path) -> None:
    s = load_settings(home=tmp_path)
    assert s.catalog_url == f"sqlite:///{tmp_path / 'catalog.db'}"
    assert s.embedded_tasks and s.qdrant_url is None
    assert s.thumbnails_dir == tmp_path / "thumbnails"


def test_default_home_is_a_per_user_data_folder() -> None:
    s = load_settings()
    assert "vidsearch" in str(s.home)


def test_environment_variables_are_read_with_the_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDSEARCH_HOME", str(tmp_path))
    monkeypatch.setenv("VIDSEARCH_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("VIDSEARCH_ALLOWED_ROOTS", "/a:/b")
    s = load_settings()
    assert s.home == tmp_path
    assert not s.embedded_tasks
    assert s.allowed_roots == [Path("/a"), Path("/b")]


def test_a_bad_value_is_a_clear_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDSEARCH_CLIP_SECONDS", "fast")
    with pytest.raises(SettingsError, match="VIDSEARCH_CLIP_SECONDS"):
        load_settings()


def test_an_out_of_range_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDSEARCH_WORKER_CONCURRENCY", "0")
    with pytest.raises(SettingsError, match="WORKER_CONCURRENCY"):
        load_settings()


def test_an_unknown_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDSEARCH_DATABSE_URL", "sqlite://")
    with pytest.raises(SettingsError, match="VIDSEARCH_DATABSE_URL"):
        load_settings()


def test_a_write_consistency_above_the_replicas_is_refused_naming_both() -> None:
    with pytest.raises(SettingsError, match="WRITE_CONSISTENCY 2 .* 1 replicas .*REPLICATION"):
        load_settings(qdrant_write_consistency=2)
    assert load_settings(qdrant_replication=2, qdrant_write_consistency=2).qdrant_shards == 1


def test_an_empty_url_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDSEARCH_BROKER_URL", " ")
    assert load_settings().embedded_tasks


def test_cli_reports_a_bad_setting_without_a_traceback(monkeypatch, capsys) -> None:
    from ui.cli import main

    monkeypatch.setenv("VIDSEARCH_DEVICE", "tpu")
    assert main(["videos"]) == 2
    err = capsys.readouterr().err
    assert "VIDSEARCH_DEVICE" in err and "Traceback" not in err


def test_the_readme_documents_every_setting() -> None:
    from core.settings import Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [n for n in Settings.model_fields if f"`VIDSEARCH_{n.upper()}`" not in readme]
    assert missing == []


def test_each_knob_has_one_default_which_the_model_package_reads():
    from videobert.config import VideoBertConfig
    from videobert.options import ModelOptions

    settings = Settings()
    config = VideoBertConfig()
    assert config.zero_shot_temperature == settings.videobert_temperature
    assert config.zero_shot_top_k == settings.videobert_top_k
    options = ModelOptions.from_settings(settings)
    for name in ModelOptions.__dataclass_fields__:
        if name != "home":
            assert getattr(options, name) == getattr(settings, name), name
