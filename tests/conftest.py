"""Shared fixtures: isolated settings, real PostgreSQL / Redis, and media made on the spot."""

from __future__ import annotations

import importlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from core.settings import Settings

PG_ADMIN_URL = os.environ.get(
    "VIDSEARCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require(available: bool, message: str) -> None:
    """Skip where a developer lacks a capability; in CI (CI=true) its absence fails the test,
    so a missing package or server can never hide the regression a test exists to catch."""
    if available:
        return
    if IN_CI:
        pytest.fail(message + " (CI=true: tests that need it must run)")
    pytest.skip(message)


def require_service(name: str, host: str, port: int) -> None:
    require(_reachable(host, port), f"{name} is not reachable on {host}:{port}")


def require_module(name: str, how: str) -> ModuleType:
    """The module, or a skip (a failure in CI) saying how to get it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        require(False, f"{name} is not importable ({exc}); {how}")
        raise  # not reached: require skipped or failed


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own VIDSEARCH_* variables must not leak into tests.
    for key in list(os.environ):
        if key.startswith("VIDSEARCH_"):
            monkeypatch.delenv(key)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole run (class-name vectors are computed once)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    from sqlalchemy import create_engine, text

    name = f"vidsearch_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        from core.db import _engine_for

        _engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings whose catalog is SQLite or a fresh PostgreSQL database: a test taking it runs on
    both backends."""
    if request.param == "postgres":
        return Settings(home=tmp_path / "home", database_url=request.getfixturevalue("pg_url"))
    return Settings(home=tmp_path / "home")


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


# --- media made by the tests ---------------------------------------------------------------------
def colour_shots(
    seconds_per_shot: list[float],
    *,
    fps: int = 25,
    size: tuple[int, int] = (160, 120),
    seed: int = 0,
) -> Iterator[np.ndarray]:
    """Shots of distinct flat colours with a little noise and motion: cuts a detector must find."""
    rng = np.random.default_rng(seed)
    palette = [
        (220, 40, 40),
        (40, 200, 60),
        (30, 60, 220),
        (230, 220, 40),
        (200, 60, 200),
        (40, 210, 210),
    ]
    w, h = size
    for shot, seconds in enumerate(seconds_per_shot):
        colour = np.array(palette[shot % len(palette)], dtype=np.int16)
        for i in range(int(seconds * fps)):
            frame = np.empty((h, w, 3), np.int16)
            frame[:] = colour
            x = (i * 3) % w
            frame[:, x : x + 10] = 255 - colour  # a moving bar, so frames are not identical
            frame += rng.integers(-8, 8, size=frame.shape, dtype=np.int16)
            yield np.clip(frame, 0, 255).astype(np.uint8)


@pytest.fixture
def make_clip(tmp_path: Path):
    """make_clip(name, [2.0, 3.0], audio=None) writes an H.264 clip with those shots."""
    from indexer.media import write_video

    def _make(
        name: str,
        shots: list[float],
        *,
        audio: np.ndarray | None = None,
        folder: Path | None = None,
        seed: int = 0,
    ) -> Path:
        folder = folder or tmp_path / "media"
        folder.mkdir(parents=True, exist_ok=True)
        return write_video(folder / name, colour_shots(shots, seed=seed), audio=audio)

    return _make


def shipped_videos() -> list[Path]:
    from indexer.samples import shipped_footage

    return [
        p for p in shipped_footage() if p.name in {"bikes.mp4", "bigbuckbunny.mp4", "cityCC0.mpg"}
    ]


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    """Run ``vidsearch`` in-process against the test's settings; returns (exit code, stdout lines)."""
    import json

    from core.settings import get_settings
    from ui.cli import main

    monkeypatch.setenv("VIDSEARCH_HOME", str(settings.home))
    for key, value in settings.model_dump(exclude_defaults=True).items():
        if key != "home" and value is not None:
            monkeypatch.setenv(f"VIDSEARCH_{key.upper()}", str(value))

    def _run(*args: str) -> tuple[int, list]:
        import contextlib
        import io

        get_settings.cache_clear()
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(list(args))
        lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
        if "--json" in args:
            return code, [json.loads(ln) for ln in lines]
        return code, lines

    yield _run
    get_settings.cache_clear()


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny models are all thread start-up: one thread is faster, and steady beside other jobs."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
