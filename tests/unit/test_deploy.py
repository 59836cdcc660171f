"""docker-compose.yml and deploy/ refer to real modules, settings and files."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from gongkai.operator.services import SERVICES
from shared.settings import ServiceSettings

ROOT = Path(__file__).parents[2]


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_every_service_in_compose_is_a_real_service_with_real_settings() -> None:
    services = compose()["services"]
    built = {name: spec for name, spec in services.items() if "build" in spec}
    assert set(built) == set(SERVICES)
    fields = {f"GONGKAI_{name.upper()}" for name in ServiceSettings.model_fields}
    for name, spec in built.items():
        assert (ROOT / spec["build"]["dockerfile"]).exists()
        assert spec["command"] == [name]
        assert set(spec["environment"]) <= fields, set(spec["environment"]) - fields
        assert spec["environment"]["GONGKAI_PORT"] == str(SERVICES[name][1])
        assert "healthcheck" in spec
        assert {"postgres", "nats"} <= set(spec["depends_on"])


def test_mounted_config_files_exist_and_nats_is_durable() -> None:
    for spec in compose()["services"].values():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not source.startswith("./.gongkai"):
                assert (ROOT / source).exists(), source
    nats_conf = (ROOT / "deploy" / "nats.conf").read_text(encoding="utf-8")
    assert "sync_interval: always" in nats_conf
    init = (ROOT / "deploy" / "postgres-init.sh").read_text(encoding="utf-8")
    for service in SERVICES:
        assert f"CREATE DATABASE gongkai_{service} OWNER gongkai_owner;" in init
    assert "SUPERUSER" not in init  # the owner is none
    for name, spec in compose()["services"].items():  # no password written in the file
        for value in (spec.get("environment") or {}).values():
            assert not re.search(r"://[^:/@]+:(?!\$\{)[^@]+@", str(value)), (name, value)


def test_the_dockerfile_copies_what_exists_and_serves_through_the_cli() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    for line in dockerfile.splitlines():
        if line.startswith("COPY"):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    assert 'ENTRYPOINT ["gongkai", "serve"]' in dockerfile


def test_the_production_variant_runs_a_replicated_3_node_cluster_of_the_deployed_config() -> None:
    production = yaml.safe_load(
        (ROOT / "docker-compose.production.yml").read_text(encoding="utf-8")
    )
    services = production["services"]
    nodes = {name: spec for name, spec in services.items() if name.startswith("nats")}
    names = sorted(spec["environment"]["NATS_SERVER_NAME"] for spec in nodes.values())
    assert names == ["nats-1", "nats-2", "nats-3"]
    for spec in nodes.values():
        assert "./deploy/nats-cluster.conf:/etc/nats/nats.conf:ro" in spec["volumes"]
    config = (ROOT / "deploy" / "nats-cluster.conf").read_text(encoding="utf-8")
    assert "sync_interval: always" in config
    assert "server_name: $NATS_SERVER_NAME" in config
    assert sorted(re.findall(r"nats-route://([\w-]+):6222", config)) == names
    assert "listen: 0.0.0.0:6222" in config
    fields = {f"GONGKAI_{name.upper()}" for name in ServiceSettings.model_fields}
    for name in SERVICES:  # every service of the base file talks to every node
        environment = services[name]["environment"]
        assert set(environment) <= fields
        assert environment["GONGKAI_STREAM_REPLICAS"] == str(len(names))
        urls = environment["GONGKAI_NATS_URL"].split(",")
        login = "gongkai:${GONGKAI_NATS_PASSWORD}"
        assert urls == [f"nats://{login}@{node}:4222" for node in names]
        assert set(services[name]["depends_on"]) | {"nats"} >= {"nats-2", "nats-3"}
    assert "nats-1" in services["nats"]["networks"]["default"]["aliases"]


def test_the_production_variant_runs_two_replicas_of_every_service() -> None:
    """Issue 22.4: a second replica of each service, on the same database and cluster as the
    first (the base file's, with the production file's cluster settings), serving HTTP on a
    port of its own; nothing else differs but the host port."""
    base = compose()["services"]
    production = yaml.safe_load(
        (ROOT / "docker-compose.production.yml").read_text(encoding="utf-8")
    )["services"]
    for name, (_, port) in SERVICES.items():
        first, second = base[name], production[f"{name}-2"]
        first_environment = first["environment"] | production[name]["environment"]
        assert second["environment"] == first_environment, name
        assert second["command"] == first["command"]
        assert second["build"] == first["build"]
        assert second["volumes"] == first["volumes"]
        assert set(second["depends_on"]) >= set(first["depends_on"]) | {"nats-2", "nats-3"}
        assert first["ports"] == [f"{port}:{port}"]
        assert second["ports"] == [f"{port + 10}:{port}"]


def test_the_broker_admits_only_its_users_and_every_node_reads_the_same_accounts() -> None:
    """deploy/nats-accounts.conf (exercised against a real server by
    tests/e2e/test_subscribing_system.py) is what both broker files include and what every
    node mounts beside them, with the passwords it reads; the services log in as its user."""
    accounts = (ROOT / "deploy" / "nats-accounts.conf").read_text(encoding="utf-8")
    wanted = set(re.findall(r"password: \$(\w+)", accounts))
    assert wanted == {"GONGKAI_NATS_PASSWORD", "GONGKAI_NATS_ARCHIVE_PASSWORD"}
    for name in ("nats.conf", "nats-cluster.conf"):
        text = (ROOT / "deploy" / name).read_text(encoding="utf-8")
        assert "include ./nats-accounts.conf" in text, name
    production = yaml.safe_load(
        (ROOT / "docker-compose.production.yml").read_text(encoding="utf-8")
    )
    nodes = [compose()["services"]["nats"]]
    nodes += [s for n, s in production["services"].items() if n in ("nats-2", "nats-3")]
    for node in nodes:
        assert "./deploy/nats-accounts.conf:/etc/nats/nats-accounts.conf:ro" in node["volumes"]
        assert wanted <= set(node["environment"])
    services = compose()["services"]
    urls = [services[name]["environment"]["GONGKAI_NATS_URL"] for name in SERVICES]
    for url in urls:
        assert url.startswith("nats://gongkai:${GONGKAI_NATS_PASSWORD}@"), url


def test_the_orchestrator_restarts_every_part_and_checks_that_it_serves() -> None:
    """Issue 22.1: in both files (the production one on top of the base, as it is run) every
    part comes back when it dies and has a healthcheck that asks whether it serves:
    PostgreSQL by pg_isready, each NATS node on its monitoring port's /healthz, each service
    on its own port's /readyz."""
    base = compose()["services"]
    production = yaml.safe_load(
        (ROOT / "docker-compose.production.yml").read_text(encoding="utf-8")
    )["services"]
    monitoring = re.search(
        r"^http: 0\.0\.0\.0:(\d+)$",
        (ROOT / "deploy" / "nats.conf").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    assert monitoring is not None
    for name, file in (("docker-compose.yml", {}), ("docker-compose.production.yml", production)):
        merged = {part: base.get(part, {}) | spec for part, spec in file.items()}
        services = base | merged
        assert set(SERVICES) | {"postgres", "nats"} <= set(services), name
        for part, spec in services.items():
            assert spec.get("restart") == "unless-stopped", (name, part)
            test = " ".join(spec["healthcheck"]["test"])
            if part == "postgres":
                assert "pg_isready" in test, (name, part)
            elif part.startswith("nats"):
                assert f"http://localhost:{monitoring[1]}/healthz" in test, (name, part)
            elif part == "proxy":  # nginx: its own health port (test_deploy_proxy.py)
                assert "http://127.0.0.1:8080/healthz" in test, (name, part)
            else:
                port = SERVICES[part.removesuffix("-2")][1]
                assert f"http://127.0.0.1:{port}/readyz" in test, (name, part)
    cluster = (ROOT / "deploy" / "nats-cluster.conf").read_text(encoding="utf-8")
    assert f"\nhttp: 0.0.0.0:{monitoring[1]}\n" in cluster  # the nodes' monitoring port too
