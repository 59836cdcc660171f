"""Starting the stack: embedded (or external) PostgreSQL and NATS, then each service as its
own process, each with its own database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

from gongkai.develop.supervisor import Part, answers
from gongkai.operator.options import issuer_file, signing_key
from gongkai.operator.services import FRONTS, SERVICES
from shared.auth import LocalSigningKey
from shared.embedded import EmbeddedNats, EmbeddedPostgres


@dataclass
class Stack:
    data_dir: Path
    database_url: str | None = None
    nats_url: str | None = None
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    # the identity service's URL: the issuer every service expects, and its JWKS the keys
    identity_url: str | None = None

    def name_issuer(self, identity_port: int) -> str:
        """Every service trusts the identity service on this port (its JWKS, its issuer);
        `gongkai token` stamps the same issuer (written beside the data directory's key)."""
        self.identity_url = f"http://127.0.0.1:{identity_port}"
        issuer_file(self.data_dir).parent.mkdir(parents=True, exist_ok=True)
        issuer_file(self.data_dir).write_text(self.identity_url, encoding="utf-8")
        return self.identity_url

    def start_servers(self) -> None:
        if self.database_url is None:
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
            self.database_url = self.postgres.start()
        if self.nats_url is None:
            self.nats = EmbeddedNats(self.data_dir / "nats")
            self.nats_url = self.nats.start()

    def start_service(
        self, service: str, port: int | None = None, module: str | None = None
    ) -> str:
        """The service started on its port (its default one unless given), once ready; a
        front may be run from another `module` (the bench's console records its calls)."""
        url = self.launch_service(service, port, module)
        self._wait_ready(service, url)
        return url

    def launch_service(
        self, service: str, port: int | None = None, module: str | None = None
    ) -> str:
        """The service's process started (again, on the port it had), without waiting."""
        if service in FRONTS:
            return self.launch_front(service, port, module)
        module, default_port = SERVICES[service]
        port = port or self.ports.get(service) or default_port
        _, public_key = signing_key(self.data_dir)
        checkpoint_key = self.data_dir / "keys" / f"checkpoint-{service}.pem"
        LocalSigningKey.load_or_create(checkpoint_key)  # Ed25519, like the token key
        env = os.environ | {
            "GONGKAI_SERVICE": service,
            "GONGKAI_PORT": str(port),
            "GONGKAI_DATABASE_URL": str(self.database_url),
            "GONGKAI_NATS_URL": str(self.nats_url),
            "GONGKAI_CHECKPOINT_KEY_FILE": str(checkpoint_key),
        }
        env.pop("GONGKAI_JWKS_URL", None)
        if self.identity_url is None or service == "identity":
            # the identity service verifies with its own keys and publishes the development
            # key in its JWKS (kid "local-dev"), so `gongkai token` keeps working
            env["GONGKAI_JWT_PUBLIC_KEY_FILE"] = str(public_key)
        else:  # every other service verifies against the identity JWKS only
            env.pop("GONGKAI_JWT_PUBLIC_KEY_FILE", None)
            env["GONGKAI_JWKS_URL"] = f"{self.identity_url}/.well-known/jwks.json"
        if self.identity_url is not None:
            env["GONGKAI_JWT_ISSUER"] = self.identity_url
        if service == "identity":  # the console signs people in through it, from its port
            offset = port - SERVICES["identity"][1]
            console = f"http://127.0.0.1:{FRONTS['console'][1] + offset}"
            env["GONGKAI_IDENTITY_CONSOLE_REDIRECT_URIS"] = f"{console}/callback"
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{service}.log", "ab") as log:  # the child keeps its own copy
            self.processes[service] = subprocess.Popen(
                [sys.executable, "-m", module], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.ports[service] = port
        return f"http://127.0.0.1:{port}"

    def launch_front(self, front: str, port: int | None = None, module: str | None = None) -> str:
        """The console: signs people in through identity and calls each service on its port
        (the same offset as identity's from its default)."""
        default_module, default_port = FRONTS[front]
        module = module or default_module
        port = port or self.ports.get(front) or default_port
        offset = port - default_port
        url = f"http://127.0.0.1:{port}"
        env = os.environ | {
            "GONGKAI_CONSOLE_PORT": str(port),
            "GONGKAI_CONSOLE_PUBLIC_URL": url,
            "GONGKAI_CONSOLE_IDENTITY_URL": str(self.identity_url),
            "GONGKAI_CONSOLE_SESSION_KEY_FILE": str(self.data_dir / "keys" / "console-session.key"),
        }
        at = {name: f"http://127.0.0.1:{port + offset}" for name, (_, port) in SERVICES.items()}
        env |= {
            "GONGKAI_CONSOLE_PLEDGE_URL": at["pledge"],
            "GONGKAI_CONSOLE_REVIEW_URL": at["review"],
            "GONGKAI_CONSOLE_EVALUATION_URL": at["evaluation"],
            "GONGKAI_CONSOLE_NOTIFICATION_URL": at["notification"],
        }
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{front}.log", "ab") as log:
            self.processes[front] = subprocess.Popen(
                [sys.executable, "-m", module], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.ports[front] = port
        return url

    def parts(self) -> list[Part]:
        """What a supervisor keeps up: the embedded servers (on their ports, with their
        passwords and data), then each started service (on its port)."""
        parts = []
        for name, server in (("postgres", self.postgres), ("nats", self.nats)):
            if server is not None:
                relaunch = partial(_relaunch_server, server)
                log = server.data_dir / "server.log"
                parts.append(Part(name, True, relaunch, lambda: True, server.process, "", log))
        for service, process in self.processes.items():
            url = f"http://127.0.0.1:{self.ports[service]}"
            relaunch = partial(self._relaunch_service, service)
            log = self.data_dir / "logs" / f"{service}.log"
            parts.append(Part(service, False, relaunch, partial(answers, url), process, url, log))
        return parts

    def _relaunch_service(self, service: str) -> subprocess.Popen[bytes]:
        self.launch_service(service)
        return self.processes[service]

    def _wait_ready(self, service: str, url: str, timeout: float = 60) -> None:
        log = self.data_dir / "logs" / f"{service}.log"
        wait_until_ready(self.processes[service], url, log, timeout)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.nats:
            self.nats.stop()
        if self.postgres:
            self.postgres.stop()


def _relaunch_server(server: EmbeddedPostgres | EmbeddedNats) -> subprocess.Popen[bytes]:
    """The same server again: its port, its data directory, its passwords."""
    server.start()
    assert server.process is not None
    return server.process


def wait_until_ready(
    process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 60
) -> None:
    """Until the service at `url` answers /readyz; an error naming its log if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s; see {log}")
