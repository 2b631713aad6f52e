"""docker-compose.yml cannot run here (no Docker engine), so its promises are checked as data."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

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
        one_shot = svc.get("restart") == "no"  # runs once; others wait for it to complete
        assert "healthcheck" in svc or "extends" in svc or one_shot, name


@pytest.mark.parametrize("service", ["worker", "api", "ui"])
def test_workers_and_the_api_wait_for_healthy_backends(compose, service):
    deps = dict(compose["services"][service]["depends_on"])
    assert set(deps) == {"postgres", "redis", "qdrant", "models"}
    assert deps.pop("models")["condition"] == "service_completed_successfully"
    assert all(d["condition"] == "service_healthy" for d in deps.values())


def test_worker_settings_are_valid_settings(compose, monkeypatch):
    env = compose["services"]["worker"]["environment"]
    for key, value in env.items():
        monkeypatch.setenv(key, interpolated(value))
    settings = load_settings()  # an unknown or misspelt variable would raise here
    assert settings.database_url.startswith("postgresql")
    assert not settings.embedded_tasks and settings.qdrant_url


def test_service_commands_are_real_cli_commands(compose):
    parser = build_parser()
    for name, svc in compose["services"].items():
        cmd = svc.get("command")
        if cmd and cmd[0] == "vidsearch":
            args = parser.parse_args(cmd[1:])
            assert args.command in {"worker", "api", "ui", "models"}, name


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


# --- the cluster profile -------------------------------------------------------------------------
CLUSTER_APPS = ("api-cluster", "worker-cluster", "ui-cluster")
DEFAULT_SERVICES = {"models", "postgres", "redis", "qdrant", "worker", "api", "ui"}


def _flag(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


def _host_port(url: str) -> tuple[str, int]:
    parsed = urlsplit(url)
    assert parsed.hostname and parsed.port, url
    return parsed.hostname, parsed.port


def _named_volumes(svc: dict) -> list[str]:
    names = []
    for spec in svc.get("volumes", []):
        source = spec.split(":", 1)[0] if isinstance(spec, str) else spec.get("source", "")
        if source and not source.startswith((".", "/", "$", "~")):  # not a bind mount
            names.append(source)
    return names


_DEFAULTED = re.compile(r"\$\{[A-Z_]+:-([^}]*)\}")


def interpolated(value: object) -> str:
    """A value as compose gives it with nothing set in the shell: ``${NAME:-default}`` is the
    default."""
    return _DEFAULTED.sub(lambda m: m.group(1), str(value))


def _settings_of(env: dict, monkeypatch: pytest.MonkeyPatch):
    for key in [k for k in os.environ if k.startswith("VIDSEARCH_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, interpolated(value))
    return load_settings()  # a misspelt variable, or a consistency above the replicas, raises


def cluster_problems(compose: dict, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What stops `docker compose --profile cluster up` from making a working cluster, in words
    (empty: nothing found). Checked as data: there is no Docker engine here."""
    services = compose["services"]
    declared = set(compose.get("volumes") or {})
    problems: list[str] = []
    nodes = {
        name: svc
        for name, svc in services.items()
        if "cluster" in svc.get("profiles", [])
        and str(svc.get("image", "")).startswith("qdrant/qdrant")
    }
    if len(nodes) != 3:
        problems.append(f"the cluster profile has {len(nodes)} Qdrant nodes, not 3")
    if services.get("qdrant", {}).get("image") not in {svc.get("image") for svc in nodes.values()}:
        problems.append("the nodes run another Qdrant version than the single-node service")
    uris: dict[str, str] = {}
    for name, svc in nodes.items():
        env = svc.get("environment") or {}
        if str(env.get("QDRANT__CLUSTER__ENABLED", "")).lower() != "true":
            problems.append(f"{name}: clustering is off (QDRANT__CLUSTER__ENABLED)")
        uri = _flag(svc.get("command") or [], "--uri")
        if uri is None or _host_port(uri) != (
            name,
            int(env.get("QDRANT__CLUSTER__P2P__PORT", 6335)),
        ):
            problems.append(f"{name}: --uri {uri} is not its own name at its p2p port")
        else:
            uris[name] = uri
    firsts = [
        n for n, svc in nodes.items() if _flag(svc.get("command") or [], "--bootstrap") is None
    ]
    if len(firsts) != 1:
        problems.append(
            f"{len(firsts)} nodes start a cluster of their own (no --bootstrap): {firsts}"
        )
    for name, svc in nodes.items():
        peer = _flag(svc.get("command") or [], "--bootstrap")
        if peer is None:
            continue
        target = next((n for n, uri in uris.items() if uri == peer), None)
        if target is None or target == name:
            problems.append(f"{name}: bootstraps from {peer}, which no other node answers at")
        elif (svc.get("depends_on") or {}).get(target, {}).get("condition") != "service_healthy":
            problems.append(f"{name}: does not wait for {target}, the peer it joins, to be healthy")
    storages: dict[str, str] = {}
    for name, svc in services.items():
        if "cluster" not in svc.get("profiles", []):
            continue
        for vol in _named_volumes(svc):
            if vol not in declared:
                problems.append(f"{name}: volume {vol} is not declared")
        if name in nodes:
            for vol in _named_volumes(svc):
                if vol in storages:
                    problems.append(f"{name} and {storages[vol]} share the volume {vol}")
                storages[vol] = name
        one_shot = svc.get("restart") == "no"
        if not one_shot and "healthcheck" not in svc:
            problems.append(f"{name}: no health check")
        if name in nodes and "/readyz" not in " ".join(svc.get("healthcheck", {}).get("test", [])):
            problems.append(f"{name}: its health check does not ask /readyz (joined, shards ready)")
    for app in CLUSTER_APPS:
        svc = services.get(app)
        if svc is None:
            problems.append(f"{app} is missing")
            continue
        deps = svc.get("depends_on") or {}
        for node in nodes:
            if deps.get(node, {}).get("condition") != "service_healthy":
                problems.append(f"{app}: starts before {node} is healthy")
        for dep, cond in deps.items():
            wanted = (
                "service_completed_successfully"
                if services.get(dep, {}).get("restart") == "no"
                else "service_healthy"
            )
            if cond.get("condition") != wanted:
                problems.append(
                    f"{app}: waits for {dep} with {cond.get('condition')}, not {wanted}"
                )
        try:
            settings = _settings_of(svc.get("environment") or {}, monkeypatch)
        except Exception as exc:  # noqa: BLE001 - the reason is the finding
            problems.append(f"{app}: its settings are refused: {exc}")
            continue
        if settings.qdrant_url is None or _host_port(settings.qdrant_url)[0] not in nodes:
            problems.append(f"{app}: VIDSEARCH_QDRANT_URL {settings.qdrant_url} is no cluster node")
        if not 2 <= settings.qdrant_replication <= len(nodes):
            problems.append(
                f"{app}: replication {settings.qdrant_replication} for {len(nodes)} nodes "
                "(2 at least, so a node may go down; at most one copy a node)"
            )
        if settings.qdrant_shards < len(nodes):
            problems.append(f"{app}: {settings.qdrant_shards} shards leave a node without any")
    return problems


def test_the_cluster_profile_makes_a_working_cluster(compose, monkeypatch):
    assert cluster_problems(compose, monkeypatch) == []


def _broken(compose: dict, change) -> dict:  # type: ignore[no-untyped-def]
    copy = json.loads(json.dumps(compose))
    change(copy["services"], copy)
    return copy


def _env(svc: dict, key: str, value: object) -> None:
    svc["environment"] = {**svc["environment"], key: value}


BREAKAGES = {
    "a node short": (lambda s, c: s.pop("qdrant-node3"), "2 Qdrant nodes"),
    "clustering off": (
        lambda s, c: _env(s["qdrant-node2"], "QDRANT__CLUSTER__ENABLED", "false"),
        "clustering is off",
    ),
    "a second first node": (
        lambda s, c: s["qdrant-node3"].update(
            command=["./qdrant", "--uri", "http://qdrant-node3:6335"]
        ),
        "2 nodes start a cluster of their own",
    ),
    "a peer nobody answers at": (
        lambda s, c: s["qdrant-node2"]["command"].__setitem__(2, "http://qdrant-node9:6335"),
        "which no other node answers at",
    ),
    "bootstrap on the HTTP port": (
        lambda s, c: s["qdrant-node2"]["command"].__setitem__(2, "http://qdrant-node1:6333"),
        "which no other node answers at",
    ),
    "an undeclared volume": (
        lambda s, c: c["volumes"].pop("vectors-node2"),
        "vectors-node2 is not declared",
    ),
    "two nodes on one volume": (
        lambda s, c: s["qdrant-node3"].update(volumes=["vectors-node1:/qdrant/storage"]),
        "share the volume vectors-node1",
    ),
    "no health check": (
        lambda s, c: s["qdrant-node1"].pop("healthcheck"),
        "qdrant-node1: no health check",
    ),
    "the API does not wait for a node": (
        lambda s, c: s["api-cluster"]["depends_on"].pop("qdrant-node3"),
        "api-cluster: starts before qdrant-node3 is healthy",
    ),
    "replication above the nodes": (
        lambda s, c: _env(s["worker-cluster"], "VIDSEARCH_QDRANT_REPLICATION", "4"),
        "replication 4 for 3 nodes",
    ),
    "no replication": (
        lambda s, c: _env(s["api-cluster"], "VIDSEARCH_QDRANT_REPLICATION", "1"),
        "replication 1 for 3 nodes",
    ),
    "the worker on the single node": (
        lambda s, c: _env(s["worker-cluster"], "VIDSEARCH_QDRANT_URL", "http://qdrant:6333"),
        "is no cluster node",
    ),
    "a misspelt setting": (
        lambda s, c: _env(s["api-cluster"], "VIDSEARCH_QDRANT_SHARD", "6"),
        "its settings are refused",
    ),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_cluster_profile_is_caught_with_its_reason(compose, monkeypatch, breakage):
    change, reason = BREAKAGES[breakage]
    problems = cluster_problems(_broken(compose, change), monkeypatch)
    assert any(reason in p for p in problems), problems


def test_the_default_stack_is_the_single_node_one(compose, monkeypatch):
    services = compose["services"]
    assert {n for n, svc in services.items() if not svc.get("profiles")} == DEFAULT_SERVICES
    for name in ("worker", "api", "ui"):
        settings = _settings_of(services[name]["environment"], monkeypatch)
        assert settings.qdrant_url == "http://qdrant:6333", name
        assert (settings.qdrant_shards, settings.qdrant_replication) == (1, 1), name
        assert not any(dep.startswith("qdrant-node") for dep in services[name]["depends_on"]), name


def test_the_cluster_stack_and_the_default_one_never_share_work(compose, monkeypatch):
    # A bare `docker compose --profile cluster up` runs both stacks: sharing a catalog or a queue
    # would index some videos into one Qdrant and some into the other.
    services = compose["services"]
    default = _settings_of(services["worker"]["environment"], monkeypatch)
    for app in CLUSTER_APPS:
        cluster = _settings_of(services[app]["environment"], monkeypatch)
        assert cluster.database_url != default.database_url, app
        assert (cluster.broker_url, cluster.queue) != (default.broker_url, default.queue), app
        assert "data" not in _named_volumes(services[app]), app
    published = [port.split(":")[0] for svc in services.values() for port in svc.get("ports", [])]
    assert len(published) == len(set(published)), published


def test_the_cluster_catalog_database_is_made_before_the_apps_start(compose, monkeypatch):
    services = compose["services"]
    made = " ".join(services["catalog-cluster"]["command"])
    name = urlsplit(services["api-cluster"]["environment"]["VIDSEARCH_DATABASE_URL"]).path[1:]
    assert f"CREATE DATABASE {name}" in made and f"datname = '{name}'" in made
    assert services["catalog-cluster"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_one_model_cache_is_filled_before_the_apps_start_and_shared_by_them(compose, monkeypatch):
    services = compose["services"]
    pull = services["models"]
    assert pull["command"] == ["vidsearch", "models", "pull"] and pull["restart"] == "no"
    assert pull["environment"]["HF_HUB_OFFLINE"] == "0"  # the one service that may download
    cache = pull["environment"]["HF_HOME"]
    assert f"models:{cache}" in pull["volumes"]
    for name in ("worker", "api", "ui", *CLUSTER_APPS):
        svc = services[name]
        assert f"models:{cache}" in svc["volumes"], name
        assert svc["environment"]["HF_HOME"] == cache, name
        assert svc["environment"]["HF_HUB_OFFLINE"] == "1", name  # offline after the first pull
        deps = svc["depends_on"]
        assert deps["models"]["condition"] == "service_completed_successfully", name
    assert "models" in compose["volumes"]
    # With no vision model set, the stack's settings are the shipped default.
    settings = _settings_of(services["api"]["environment"], monkeypatch)
    assert settings.vision_model is None
    monkeypatch.setenv("VIDSEARCH_VISION_MODEL", "google/siglip2-base-patch16-224")
    assert load_settings().vision_model == "google/siglip2-base-patch16-224"
