"""docker-compose.yml cannot run here (no Docker engine), so its promises are checked as data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.settings import load_settings
from ui.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_long_running_service_has_a_health_check(compose):
    for name, svc in compose["services"].items():
        assert "healthcheck" in svc or "extends" in svc, name


@pytest.mark.parametrize("service", ["worker", "api", "ui"])
def test_workers_and_the_api_wait_for_healthy_backends(compose, service):
    deps = compose["services"][service]["depends_on"]
    assert set(deps) == {"postgres", "redis", "qdrant"}
    assert all(d["condition"] == "service_healthy" for d in deps.values())


def test_worker_settings_are_valid_settings(compose, monkeypatch):
    env = compose["services"]["worker"]["environment"]
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    settings = load_settings()  # an unknown or misspelt variable would raise here
    assert settings.database_url.startswith("postgresql")
    assert not settings.embedded_tasks and settings.qdrant_url


def test_service_commands_are_real_cli_commands(compose):
    parser = build_parser()
    for name, svc in compose["services"].items():
        cmd = svc.get("command")
        if cmd and cmd[0] == "vidsearch":
            args = parser.parse_args(cmd[1:])
            assert args.command in {"worker", "api", "ui"}, name


def test_the_image_installs_every_package_the_design_names():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for pkg in (
        "core",
        "videobert",
        "model_lifecycle",
        "indexer",
        "search",
        "recommender",
        "services",
        "api",
        "ui",
    ):
        assert f"COPY {pkg} {pkg}" in dockerfile
    assert '"torch==2.13.0"' in dockerfile


def test_the_web_ui_is_served_with_a_health_check_on_streamlits_endpoint(compose):
    ui = compose["services"]["ui"]
    assert ui["command"][:2] == ["vidsearch", "ui"] and "8501:8501" in ui["ports"]
    assert "/_stcore/health" in " ".join(ui["healthcheck"]["test"])


@pytest.mark.parametrize("service", ["ui", "api"])
def test_the_served_ui_and_api_require_sign_in(compose, service, monkeypatch):
    env = compose["services"][service]["environment"]
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    assert load_settings().auth == "required"
    host = compose["services"][service]["command"][
        compose["services"][service]["command"].index("--host") + 1
    ]
    assert host == "0.0.0.0"  # reachable from the network, which is why sign-in is required
