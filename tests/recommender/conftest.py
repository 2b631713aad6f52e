"""A catalog on each backend, for the repository and service tests of users and events."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings whose catalog is SQLite or a fresh PostgreSQL database."""
    if request.param == "postgres":
        return Settings(home=tmp_path / "home", database_url=request.getfixturevalue("pg_url"))
    return Settings(home=tmp_path / "home")
