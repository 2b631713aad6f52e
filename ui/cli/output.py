"""How the command line prints: JSON lines, progress bars on a terminal, search results."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

_SEEN = re.compile(r"\[seen: ([^\]]*)\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(text: object) -> str:
    """Text from a file name or a file for a terminal: control characters (a newline, an
    escape sequence that would repaint the screen) printed as escapes, so a hostile name can
    neither forge a line nor drive the terminal. JSON output needs none of this."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


def print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str))


def fail(command: str, message: str, code: int = 2) -> int:
    """A one-line error on stderr naming the command; returns the exit code."""
    print(f"vidsearch {command}: {message}", file=sys.stderr)
    return code


def moment_label(caption: str) -> str:
    """What a moment says, or else what it shows: a silent moment is never a blank line."""
    spoken = " ".join(_SEEN.sub("", caption).split())
    if spoken:
        return spoken
    seen = _SEEN.search(caption)
    if seen and seen.group(1).strip():
        return f"(shows {seen.group(1).strip()})"
    return "(no speech; nothing recognised)"


class Bars:
    """A progress bar per item on a terminal; silent otherwise (logs and --json stay clean)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict[int, Any] = {}

    def update(self, key: int, label: str, stage: str, fraction: float) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        bar = self.bars.get(key)
        if bar is None:
            bar = self.bars[key] = tqdm(
                total=100,
                desc=label[-40:],
                unit="%",
                leave=True,
                bar_format="{desc} {bar} {n:.0f}% {postfix}",
            )
        bar.n = round(fraction * 100, 1)
        bar.set_postfix_str(stage, refresh=False)
        bar.refresh()

    def close(self, key: int, status: str) -> None:
        bar = self.bars.pop(key, None)
        if bar is not None:
            bar.set_postfix_str(status)
            bar.close()


def print_results(response: Any, *, as_json: bool, nothing: str) -> None:
    """A search response: JSON, or one line per video and one per moment. ``nothing`` is what
    to say when the relevance cut-off left no result."""
    if as_json:
        print_json(response.to_json())
        return
    from core.timecode import clock

    if response.cut_off:
        print(nothing)
    heading = False
    for r in response.results:
        if r.weak and not heading:
            # What the cut-off would have hidden: after every strong result, and said so.
            print("closest (no strong match):" if response.cut_off else "weaker matches:")
            heading = True
        print(f"{r.score:6.3f}  {shown(r.title)}  ({r.video_id})  {shown(r.path)}")
        for m in r.moments:
            text = shown(moment_label(m.text))
            print(f"        {clock(m.start)}-{clock(m.end)}  {m.score:5.3f}  {text[:90]}")
