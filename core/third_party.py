"""What vidsearch tells the libraries it runs before they load: nothing of theirs phones home
or keeps files outside VIDSEARCH_HOME. onnxruntime (the query encoder, faster-whisper's voice
detector) otherwise writes a telemetry device id and an event database under
``~/.cache/Microsoft/DeveloperTools`` as soon as it is imported. Set as defaults only, so a
person's own environment still wins."""

from __future__ import annotations

import os

DEFAULTS = {
    "ORT_DISABLE_TELEMETRY": "1",  # onnxruntime: no device id, no event store, no upload
    "HF_HUB_DISABLE_TELEMETRY": "1",  # huggingface_hub: nothing is sent
    "DO_NOT_TRACK": "1",  # the common opt-out other libraries honour
}


def quiet_third_parties() -> None:
    """Apply the defaults to this process (and what it starts); idempotent."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
