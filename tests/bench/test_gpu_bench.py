"""bench/gpu.py, CPU-sized: the same script the GPU machines run, on a tiny CLIP and one short
shipped video, prints the image tower's frames per second and the pipeline's ratio."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.gpu import main
from tests.conftest import shipped_videos
from tests.tiny_models import tiny_clip


def test_the_gpu_check_runs_end_to_end_and_prints_its_figures(tmp_path: Path, capsys) -> None:
    samples = tmp_path / "samples"
    samples.mkdir()
    video = next(p for p in shipped_videos() if p.name == "bigbuckbunny.mp4")
    shutil.copy(video, samples / video.name)
    model = tiny_clip(tmp_path / "tiny-clip")
    main(["--device", "cpu", "--model", str(model), "--samples", str(samples), "--frames", "64"])
    out = capsys.readouterr().out
    assert "image tower alone: 64 frames" in out and "frames/s" in out
    assert "ratio pipeline / unavoidable:" in out
    assert "succeeded" in out  # the footage was indexed through the vision-language model
