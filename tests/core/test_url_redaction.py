"""The one redaction of URLs: passwords always, user names too where a URL is shown to people."""

from __future__ import annotations

from core.logs import redact


def test_a_url_shown_to_people_hides_its_user_as_well_as_its_password():
    url = "postgresql+psycopg://app:hunter2@db:5432/v"
    assert redact(url) == "postgresql+psycopg://app:[redacted]@db:5432/v"
    assert redact(url, url_users=True) == "postgresql+psycopg://[redacted]@db:5432/v"
    assert redact("redis://:pw@host:6379/0", url_users=True) == "redis://[redacted]@host:6379/0"
    assert redact("postgresql://app@db/v", url_users=True) == "postgresql://[redacted]@db/v"


def test_a_url_without_a_user_part_is_left_as_it_is():
    for url in ("sqlite:////home/me@work/catalog.db", "redis://host:6379/0"):
        assert redact(url, url_users=True) == url


def test_a_password_holding_an_encoded_at_sign_is_hidden_whole():
    url = "postgresql://app:p%40ss@db:5432/v"
    assert redact(url) == "postgresql://app:[redacted]@db:5432/v"
    assert redact(url, url_users=True) == "postgresql://[redacted]@db:5432/v"
