"""Named fault points: places where the fault-injection tests stop or crash a process on purpose,
to prove that a crash at exactly that point loses nothing.

Inactive unless the environment names a point: ``VS_FAULT_AT=<point>`` (or several, comma
separated) with ``VS_FAULT_ACTION`` one of ``pause`` (the default: wait there, so a test can
kill -9 the process at that very point), ``crash`` (exit at once, no clean-up, like a power
cut), ``interrupt`` (raise KeyboardInterrupt, like Ctrl-C) or ``enospc`` (raise the OSError of a
full disk). ``VS_FAULT_AFTER=N`` lets the first N-1 arrivals pass (the Nth fires; default 1).
``VS_FAULT_MARKER`` names a file to create on arrival, so the test knows when the point is
reached. (Not ``VIDSEARCH_*``: these are not settings, and the settings refuse names they do not
know.)
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections import Counter
from pathlib import Path

AT, ACTION, MARKER, AFTER = "VS_FAULT_AT", "VS_FAULT_ACTION", "VS_FAULT_MARKER", "VS_FAULT_AFTER"
_arrivals: Counter[str] = Counter()
_lock = threading.Lock()


def point(name: str) -> None:
    """A fault point; does nothing unless ``VS_FAULT_AT`` names it."""
    at = os.environ.get(AT)
    if not at or name not in at.split(","):
        return
    with _lock:
        _arrivals[name] += 1
        arrived = _arrivals[name]
    if arrived < int(os.environ.get(AFTER) or 1):
        return
    marker = os.environ.get(MARKER)
    if marker:
        Path(marker).write_text(f"{name} {os.getpid()}\n")
    action = os.environ.get(ACTION, "pause")
    if action == "crash":
        os._exit(70)
    if action == "interrupt":
        raise KeyboardInterrupt(f"fault point {name}")
    if action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"fault point {name}")
    while True:  # pause: the test kills the process here
        time.sleep(0.2)
