"""Reading a VideoBERT checkpoint's metadata without loading torch: its format, its id, the
vector space it embeds into. (Writing and loading weights is videobert/checkpoint.py's.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CHECKPOINT_FORMAT = 1
META_FILE = "videobert.json"


def read_meta(path: str | Path) -> dict[str, Any]:
    """A checkpoint's videobert.json, checked for a format this code reads."""
    meta_path = Path(path) / META_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"{path} is not a VideoBERT checkpoint: no {META_FILE}")
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    version = meta.get("format")
    if version != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} is checkpoint format {version!r}; this code reads {CHECKPOINT_FORMAT}"
        )
    return meta


def checkpoint_name(path: str | Path) -> str:
    """The vector space a checkpoint embeds into, read from its metadata (no weights loaded).
    A saved zero-shot build records the name it had when built in memory."""
    meta = read_meta(path)
    recorded = meta.get("extra", {}).get("space_name")
    if recorded:
        return str(recorded)
    return f"videobert:{meta['checkpoint_id']}:{meta['config']['video_input']}"
