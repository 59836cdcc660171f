"""docker-compose.yml and deploy/ refer to real modules, settings and files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from gongkai.operator.services import FRONTS, SERVICES
from services.console.settings import ConsoleSettings
from services.identity.app import development_key
from services.identity.oidc.config import IdentitySettings
from shared.settings import ServiceSettings

ROOT = Path(__file__).parents[2]
PORTS = {name: port for name, (_, port) in (SERVICES | FRONTS).items()}


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def settings_of(name: str) -> set[str]:
    """The environment variables a part reads: a service's (the identity service's own as
    well), or the console's (GONGKAI_CONSOLE_*)."""
    if name in FRONTS:
        return {f"GONGKAI_CONSOLE_{field.upper()}" for field in ConsoleSettings.model_fields}
    fields = set(ServiceSettings.model_fields)
    if name == "identity":
        fields |= set(IdentitySettings.model_fields)
    return {f"GONGKAI_{field.upper()}" for field in fields}


def test_every_service_in_compose_is_a_real_service_with_real_settings() -> None:
    services = compose()["services"]
    built = {name: spec for name, spec in services.items() if "build" in spec}
    assert set(built) == set(SERVICES) | set(FRONTS)
    for name, spec in built.items():
        assert (ROOT / spec["build"]["dockerfile"]).exists()
        assert spec["command"] == [name]
        fields = settings_of(name)
        assert set(spec["environment"]) <= fields, set(spec["environment"]) - fields
        assert "healthcheck" in spec
        if name in FRONTS:  # no database, no broker: the services it calls
            assert spec["environment"]["GONGKAI_CONSOLE_PORT"] == str(PORTS[name])
            assert set(spec["depends_on"]) == {"identity"}
            continue
        assert spec["environment"]["GONGKAI_PORT"] == str(SERVICES[name][1])
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
    # the console (`gongkai serve console`) listens on every address and is checked on its port
    [env] = [line for line in dockerfile.splitlines() if line.startswith("ENV ")]
    assert {"GONGKAI_HOST=0.0.0.0", "GONGKAI_CONSOLE_HOST=0.0.0.0"} <= set(env.split())
    [check] = [line for line in dockerfile.splitlines() if "/readyz" in line]
    assert "GONGKAI_PORT" in check
    assert "GONGKAI_CONSOLE_PORT" in check


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
    for name in SERVICES:  # every service of the base file talks to every node
        environment = services[name]["environment"]
        assert set(environment) <= settings_of(name), name
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
    for name, port in PORTS.items():
        first, second = base[name], production[f"{name}-2"]
        first_environment = first["environment"] | production[name]["environment"]
        assert second["environment"] == first_environment, name
        assert second["command"] == first["command"]
        assert second["build"] == first["build"]
        assert second.get("volumes") == first.get("volumes")
        assert second.get("secrets") == first.get("secrets")
        assert second["healthcheck"] == first["healthcheck"]
        # on the host's loopback alone: from outside, only through the proxy (which keeps
        # identity's API, metrics and readiness inside)
        assert first["ports"] == [f"127.0.0.1:{port}:{port}"]
        assert second["ports"] == [f"127.0.0.1:{port + 10}:{port}"]
        if name in SERVICES:
            assert set(second["depends_on"]) >= set(first["depends_on"]) | {"nats-2", "nats-3"}
        else:
            assert set(second["depends_on"]) == set(first["depends_on"])


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
        assert set(PORTS) | {"postgres", "nats"} <= set(services), name
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
                port = PORTS[part.removesuffix("-2")]
                assert f"http://127.0.0.1:{port}/readyz" in test, (name, part)
    cluster = (ROOT / "deploy" / "nats-cluster.conf").read_text(encoding="utf-8")
    assert f"\nhttp: 0.0.0.0:{monitoring[1]}\n" in cluster  # the nodes' monitoring port too


# what an operator's .env gives the production file (docs/operations.md)
DOT_ENV = {
    "GONGKAI_POSTGRES_PASSWORD": "pg",
    "GONGKAI_POSTGRES_OWNER_PASSWORD": "owner",
    "GONGKAI_NATS_PASSWORD": "nats",
    "GONGKAI_NATS_ARCHIVE_PASSWORD": "archive",
    "GONGKAI_PUBLIC_BASE_URL": "https://gongkai.minqin.gov.cn",
    "GONGKAI_CONSOLE_PUBLIC_URL": "https://console.minqin.gov.cn",
    "GONGKAI_IDENTITY_PUBLIC_URL": "https://id.minqin.gov.cn",
    "GONGKAI_PROXY_PUBLIC_HOST": "gongkai.minqin.gov.cn",
    "GONGKAI_PROXY_CONSOLE_HOST": "console.minqin.gov.cn",
    "GONGKAI_PROXY_IDENTITY_HOST": "id.minqin.gov.cn",
}


def interpolated(value: str, env: dict[str, str]) -> str:
    """A compose value with `${VAR}`, `${VAR:-default}` and `${VAR:?message}` filled in from
    `env`, as compose does (a required variable that is missing fails)."""

    def one(found: re.Match[str]) -> str:
        name, operator, rest = found[1], found[2], found[3]
        if env.get(name):
            return env[name]
        assert operator == ":-", f"{name} is required ({rest})"
        return str(rest)

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value)


def as_run() -> dict[str, dict]:  # type: ignore[type-arg]
    """The production file on top of the base file, as compose merges them (a service's
    environment key by key), with the .env filled in."""
    base = compose()["services"]
    file = yaml.safe_load((ROOT / "docker-compose.production.yml").read_text(encoding="utf-8"))
    merged = {}
    for name in base.keys() | file["services"].keys():
        first, over = base.get(name, {}), file["services"].get(name, {})
        spec = first | over
        environment = (first.get("environment") or {}) | (over.get("environment") or {})
        spec["environment"] = {k: interpolated(str(v), DOT_ENV) for k, v in environment.items()}
        merged[name] = spec
    return merged


def aliases(spec: dict) -> set[str]:  # type: ignore[type-arg]
    networks = spec.get("networks") or {}
    default = networks.get("default") or {} if isinstance(networks, dict) else {}
    return set(default.get("aliases") or [])


def test_in_production_tokens_come_from_the_identity_host_and_keys_from_inside() -> None:
    """Issues 16 and 18 in containers: the issuer is the identity host's public address (what
    browsers reach, through the proxy) in every service; the keys are fetched from inside,
    from either identity replica (a network alias both hold)."""
    services = as_run()
    issuer = DOT_ENV["GONGKAI_IDENTITY_PUBLIC_URL"]
    for name in SERVICES:
        for part in (name, f"{name}-2"):
            environment = services[part]["environment"]
            assert environment["GONGKAI_JWT_ISSUER"] == issuer, part
            assert f"{name}-replicas" in aliases(services[part]), part
            if name == "identity":  # it verifies with its own keys
                assert "GONGKAI_JWKS_URL" not in environment, part
                redirect = environment["GONGKAI_IDENTITY_CONSOLE_REDIRECT_URIS"]
                assert redirect == DOT_ENV["GONGKAI_CONSOLE_PUBLIC_URL"] + "/callback"
                assert environment["GONGKAI_IDENTITY_COOKIE_SECURE"] == "true"
            else:
                jwks = "http://identity-replicas:8105/.well-known/jwks.json"
                assert environment["GONGKAI_JWKS_URL"] == jwks, part


def test_in_production_two_consoles_share_one_key_and_call_every_replica(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Both console replicas read their settings as the console would (pydantic-settings,
    from the environment compose gives them): production, the public addresses, the session
    key from the one secret both mount, and each service at the alias of both its replicas."""
    services = as_run()
    [secret] = compose()["secrets"]
    assert compose()["secrets"][secret]["file"] == "./.gongkai/keys/console-session.key"
    key = tmp_path / "console-session.key"
    key.write_text("k")
    for part in ("console", "console-2"):
        spec = services[part]
        assert spec["secrets"] == [secret], part
        environment = dict(spec["environment"])
        assert environment["GONGKAI_CONSOLE_SESSION_KEY_FILE"] == f"/run/secrets/{secret}"
        environment["GONGKAI_CONSOLE_SESSION_KEY_FILE"] = str(key)  # the mounted file, here
        for variable in list(os.environ):
            if variable.startswith("GONGKAI_"):
                monkeypatch.delenv(variable)
        for variable, value in environment.items():
            monkeypatch.setenv(variable, value)
        settings = ConsoleSettings()
        assert settings.environment == "production"
        assert settings.public_url == DOT_ENV["GONGKAI_CONSOLE_PUBLIC_URL"]
        assert settings.identity_url == DOT_ENV["GONGKAI_IDENTITY_PUBLIC_URL"]
        assert settings.secure_cookies
        # a member's 去投票 goes to the public host, never to a loopback address
        assert settings.vote_url == DOT_ENV["GONGKAI_PUBLIC_BASE_URL"] + "/vote"
        called = {
            "identity": settings.identity_backchannel,
            "pledge": settings.pledge_url,
            "review": settings.review_url,
            "evaluation": settings.evaluation_url,
            "notification": settings.notification_url,
        }
        assert set(called) == set(SERVICES)
        for name, url in called.items():
            assert url == f"http://{name}-replicas:{SERVICES[name][1]}", (part, name)


def test_in_production_every_service_runs_as_production_and_never_trusts_the_dev_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every service part of the production file runs with GONGKAI_ENVIRONMENT=production and
    its settings validate as the service reads them; so the identity service publishes no
    development key (kid "local-dev") in its JWKS, even with the data directory's key mounted,
    and refuses to be told to."""
    services = as_run()
    for name in SERVICES:
        for part in (name, f"{name}-2"):
            environment = services[part]["environment"]
            assert environment.get("GONGKAI_ENVIRONMENT") == "production", part
            for key in list(os.environ):
                if key.startswith("GONGKAI_"):
                    monkeypatch.delenv(key)
            for key, value in environment.items():
                monkeypatch.setenv(key, value)
            settings = ServiceSettings()
            assert settings.environment == "production"
            for published in services[part].get("ports", []):  # from outside: the proxy alone
                assert published.startswith("127.0.0.1:"), (part, published)
            if name == "identity":
                monkeypatch.setenv("GONGKAI_JWT_PUBLIC_KEY_FILE", "/run/keys/signing.pub.pem")
                assert development_key(ServiceSettings(), IdentitySettings()) is None
                monkeypatch.setenv("GONGKAI_IDENTITY_DEV_PUBLIC_KEY_FILE", "/run/keys/x.pem")
                with pytest.raises(ValueError, match="development only"):
                    development_key(ServiceSettings(), IdentitySettings())
