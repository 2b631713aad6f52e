"""A slot whose model is missing or broken stops the process at start-up, in one line that
names the slot, the setting, where it looked and how to fetch it; nothing is queued."""

from __future__ import annotations

import json

from tests.conftest import shipped_videos
from tests.tiny_models import tiny_clip


def test_a_missing_vision_model_stops_ingest_at_start_up_with_one_line(
    cli, tmp_path, capsys, monkeypatch
):
    missing = tmp_path / "no-such-checkpoint"
    monkeypatch.setenv("VIDSEARCH_VISION_MODEL", str(missing))
    video = next(p for p in shipped_videos() if p.name == "bikes.mp4")
    code, _ = cli("ingest", str(video), "--wait", "--json")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("vidsearch ingest: vision model"), err
    assert "VIDSEARCH_VISION_MODEL" in err[0] and str(missing) in err[0]
    code, out = cli("models", "--json")
    vision = out[0]["slots"][0]
    assert (
        code == 0
        and not vision["ready"]
        and "is not a folder with a config.json" in vision["error"]
    )
    code, lines = cli("models")
    assert code == 1 and any("MISSING" in line for line in lines)
    # Nothing was queued or half-written.
    code, out = cli("jobs", "--json")
    assert out[0]["jobs"] == []


def test_a_broken_checkpoint_stops_the_api_and_the_worker_before_they_serve(
    cli, tmp_path, capsys, monkeypatch
):
    broken = tiny_clip(tmp_path / "broken-clip")
    (broken / "config.json").write_text(json.dumps({"model_type": "clip"}) + "garbage")
    monkeypatch.setenv("VIDSEARCH_VISION_MODEL", str(broken))
    capsys.readouterr()  # the checkpoint's own writing notes
    code, _ = cli("api", "--port", "1")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("vidsearch api: vision model"), err
    assert "is broken: its config.json is unreadable" in err[0]
    code, _ = cli("ui", "--port", "1")  # refused before Streamlit is started
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("vidsearch ui: vision model"), err
    monkeypatch.setenv("VIDSEARCH_BROKER_URL", "redis://127.0.0.1:1/0")  # never reached
    code, _ = cli("worker")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[0].startswith("vidsearch worker: vision model"), err
    code, out = cli("doctor", "--json")
    checks = {c["name"]: c for c in out[0]["checks"]}
    assert code == 1 and not checks["vision model"]["ok"]
    assert "VIDSEARCH_VISION_MODEL" in checks["vision model"]["detail"]
