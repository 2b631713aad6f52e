"""What the doctor shows of a backend's address: where it is, never who signs in to it."""

from __future__ import annotations

from core.db import SCHEMA_HEAD
from core.settings import Settings
from services.doctor import run_checks


def test_the_doctor_names_the_catalog_without_its_user_and_with_its_schema(tmp_path, pg_url):
    scheme, rest = pg_url.split("://", 1)
    assert "@" in rest  # the test database's URL names a user
    settings = Settings(home=tmp_path / "home", database_url=pg_url)
    checks = {c["name"]: c for c in run_checks(settings)}
    assert checks["catalog"]["ok"], checks["catalog"]
    host = rest.split("@", 1)[1]
    assert checks["catalog"]["detail"] == f"{scheme}://[redacted]@{host} (schema {SCHEMA_HEAD})"


def test_the_doctor_reports_every_check_in_its_order(settings):
    names = [c["name"] for c in run_checks(settings)]
    assert names == [
        "home",
        "catalog",
        "vector index",
        "task queue",
        "vision model",
        "text model",
        "speech model",
        "summarizer model",
        "on-screen text model",
        "people model",
        "models in use",
        "device",
        "versions",
    ]
