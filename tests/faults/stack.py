"""The four services as real processes on one NATS subject root, each with its own database:
what the fault tests kill -9 and restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from gongkai.develop.stack import wait_until_ready
from shared.embedded import free_port
from shared.messaging import Subjects
from shared.settings import with_database
from tests.support import Servers

SERVICES = ("pledge", "review", "evaluation", "notification")


class ServiceProcess:
    """One service (`python -m services.<name>.app`), killed and restarted by a test."""

    def __init__(
        self,
        name: str,
        servers: Servers,
        root: str,
        tmp: Path,
        *,
        nats_url: str,
        replicas: int,
        copy: int = 0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = f"gongkai_{name}_{root}"
        self.dsn = with_database(servers.postgres.dsn, self.database)  # the owner's, for checks
        self.env = (
            os.environ
            | {
                "GONGKAI_SERVICE": name,
                "GONGKAI_PORT": str(self.port),
                "GONGKAI_DATABASE_URL": servers.postgres.dsn,
                "GONGKAI_DATABASE_NAME": self.database,
                "GONGKAI_NATS_URL": nats_url,
                "GONGKAI_NATS_SUBJECT_ROOT": root,
                "GONGKAI_STREAM_REPLICAS": str(replicas),
                "GONGKAI_JWT_PUBLIC_KEY_FILE": str(servers.key_file),
            }
            | (env or {})
        )
        # replicas of a service share its database and its durable consumers
        self.log = tmp / (f"{name}.log" if copy == 0 else f"{name}-{copy}.log")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, relay: bool = True, wait: bool = True) -> None:
        env = self.env | {"GONGKAI_RELAY_ENABLED": "true" if relay else "false"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}.app"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if wait:
            self.wait_ready()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self) -> None:
        assert self.process is not None
        wait_until_ready(self.process, self.url, self.log)

    def terminate(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused process cannot terminate
            self.process.terminate()

    def kill(self) -> None:
        """kill -9: no shutdown code runs, whatever was in flight is cut."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.terminate()
        if self.process:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Stack:
    """The services of one test on a fresh subject root (so tests never see each other); each
    as `copies` replicas on one database (`stack[name]` is the first, `replicas` all)."""

    def __init__(
        self,
        servers: Servers,
        tmp: Path,
        *,
        nats_url: str | None = None,
        replicas: int = 1,
        names: tuple[str, ...] = SERVICES,
        copies: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.servers = servers
        self.root = f"f{uuid.uuid4().hex[:8]}"
        self.subjects = Subjects(self.root)
        self.nats_url = nats_url or servers.nats.url
        self.replicas = {
            name: [
                ServiceProcess(
                    name,
                    servers,
                    self.root,
                    tmp,
                    nats_url=self.nats_url,
                    replicas=replicas,
                    copy=copy,
                    env=env,
                )
                for copy in range(copies)
            ]
            for name in names
        }
        self.services = {name: copies[0] for name, copies in self.replicas.items()}

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    def urls(self, name: str) -> list[str]:
        """Where `name` serves HTTP: each replica that is running (all, if none is)."""
        running = [r.url for r in self.replicas[name] if r.running]
        return running or [r.url for r in self.replicas[name]]

    def processes(self) -> list[ServiceProcess]:
        return [r for copies in self.replicas.values() for r in copies]

    def start(self, *, without_relay: tuple[str, ...] = ()) -> None:
        for service in self.processes():  # started together: start-ups overlap
            service.start(relay=service.name not in without_relay, wait=False)
        for service in self.processes():
            service.wait_ready()

    def kill_and_restart(self, names: tuple[str, ...], *, relay: bool = True) -> None:
        """kill -9 each of `names`, then start them again together."""
        for name in names:
            self[name].kill()
        for name in names:
            self[name].start(relay=relay, wait=False)
        for name in names:
            self[name].wait_ready()

    def stop(self) -> None:
        for service in self.processes():  # all at once: shutdowns overlap
            service.terminate()
        for service in self.processes():
            service.stop()
