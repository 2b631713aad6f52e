"""Every model the product runs, behind one base class: locate -> load -> run.

An ``InferenceModel`` fills one *slot* (vision, text, speech, summarizer, ...) named by one
setting. ``locate`` finds its files without loading anything (cheap enough for every start-up),
``load`` loads them once, under a lock, the first time a caller needs them, and ``describe`` is
what ``vidsearch models`` and ``doctor`` show. ``MODELS`` is the one process-wide cache of
loaded models and what is built from them, so a process holds one copy of each.

A slot whose model is missing or broken raises ``ModelMissing`` with one line that names the
slot, the setting, where it looked and the command that fetches it.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from videobert.model_files import checkpoint_problem, locate_checkpoint, looks_like_path

T = TypeVar("T")


class ModelMissing(RuntimeError):
    """A slot's model is not where its setting points, or its files are broken."""

    def __init__(self, *, slot: str, setting: str, value: str, looked_in: Path, reason: str):
        fetch = (
            f"put a checkpoint there, or set {setting} to a model id and run "
            "`vidsearch models pull ID`"
            if looks_like_path(value)
            else f"fetch it with `vidsearch models pull {value}`"
        )
        super().__init__(
            f"{slot} model {value!r} ({setting}) {reason}: looked in {looked_in}; {fetch}"
        )
        self.slot, self.setting, self.value, self.looked_in = slot, setting, value, looked_in


class InferenceModel(ABC):
    """One model of one slot: found by ``locate``, loaded once by ``load``."""

    slot: ClassVar[str]
    setting: ClassVar[str]  # the environment variable that names the model

    def __init__(self) -> None:
        self._loaded: Any = None
        self._load_lock = threading.Lock()
        self.load_seconds: float | None = None

    @property
    @abstractmethod
    def model_name(self) -> str:
        """What the setting names (or the shipped default), as people read it."""

    @abstractmethod
    def locate(self) -> Path:
        """The model's files, checked without loading them; raises ModelMissing."""

    @abstractmethod
    def _load(self, path: Path) -> Any:
        """Load the located files (called once, under the lock)."""

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def dtype(self) -> str:
        return "float32"

    def load(self) -> Any:
        """The loaded model; the first caller loads it, the others wait for it."""
        if self._loaded is not None:
            return self._loaded
        with self._load_lock:
            if self._loaded is None:
                started = time.perf_counter()
                self._loaded = self._load(self.locate())
                self.load_seconds = time.perf_counter() - started
            return self._loaded

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def describe(self) -> dict[str, Any]:
        """{slot, model, path, device, dtype, ready, error}: ``ready`` when its files are
        usable (a listing process does not load the weights)."""
        try:
            path: str | None = str(self.locate())
            error = None
        except ModelMissing as exc:
            path, error = str(exc.looked_in), str(exc)
        return {
            "slot": self.slot,
            "model": self.model_name,
            "path": path,
            "device": self.device,
            "dtype": self.dtype,
            "ready": error is None,
            "error": error,
        }


class HubCheckpoint(InferenceModel):
    """A transformers checkpoint named by a folder or a hub id in the local cache."""

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value

    @property
    def model_name(self) -> str:
        return self.value

    def locate(self) -> Path:
        found = locate_checkpoint(self.value)
        if found.folder is None:
            where = (
                "is not a folder with a config.json"
                if looks_like_path(self.value)
                else ("is not in the local Hugging Face cache")
            )
            raise ModelMissing(
                slot=self.slot,
                setting=self.setting,
                value=self.value,
                looked_in=found.looked_in,
                reason=where,
            )
        problem = checkpoint_problem(found.folder) or self.problem(found.folder)
        if problem:
            raise ModelMissing(
                slot=self.slot,
                setting=self.setting,
                value=self.value,
                looked_in=found.folder,
                reason=f"is broken: {problem}",
            )
        return found.folder

    def problem(self, folder: Path) -> str | None:
        """What this slot in particular refuses in a checkpoint (a model type it cannot run)."""
        return None


class ModelCache:
    """The process's models and what is built from them, each built once per key. A bounded
    group (``limit``) forgets its oldest entry past the limit (models of old spaces)."""

    def __init__(self) -> None:
        self._entries: dict[str, OrderedDict[Hashable, Any]] = {}
        self._lock = threading.RLock()

    def get(
        self, group: str, key: Hashable, build: Callable[[], T], *, limit: int | None = None
    ) -> T:
        with self._lock:
            entries = self._entries.setdefault(group, OrderedDict())
            if key in entries:
                return entries[key]  # type: ignore[no-any-return]
            value = build()
            entries[key] = value
            while limit is not None and len(entries) > limit:
                entries.popitem(last=False)
            return value

    def peek(self, group: str, key: Hashable) -> Any:
        with self._lock:
            entries = self._entries.get(group)
            return None if entries is None else entries.get(key)

    def clear(self, group: str | None = None) -> None:
        with self._lock:
            if group is None:
                self._entries.clear()
            else:
                self._entries.pop(group, None)


MODELS = ModelCache()
