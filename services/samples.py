"""The sample footage that ships in packages, gathered into a folder to index (``vidsearch
samples``, the demo)."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from indexer.samples import collect_samples


def gather_samples(
    settings: Settings, dest: Path | None = None, *, narrated: bool = True
) -> list[Path]:
    """Copy the shipped footage into ``dest`` (``VIDSEARCH_HOME/samples`` by default), with a
    narrated clip unless ``narrated`` is False; returns the files, ready for ingest."""
    return collect_samples(dest or settings.home / "samples", narrated=narrated)
