"""`gongkai up` keeps the stack serving (issue 22.1): kill -9 a service and it is restarted
and serves again while the others never stopped answering; kill -9 the nats-server and it
comes back on its port, passwords and data with its streams intact; kill -9 PostgreSQL and
it comes back, the services with it; a service that keeps dying is given up after the
limit, with a line saying so, and the others still serve.
One `gongkai up` on its own embedded servers for the module, with short back-off."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from gongkai.develop.demo import bearer
from gongkai.operator.options import signing_key
from gongkai.operator.services import SERVICES
from tests.e2e.test_cli import GONGKAI, WITHOUT_GONGKAI_SETTINGS, free_port_run

LIMIT, WINDOW = 2, 120


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    data: Path
    first_port: int
    output: Path

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.first_port + list(SERVICES).index(service)}"

    def parts(self) -> dict[str, dict[str, Any]]:
        try:
            document = json.loads((self.data / "status.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return {part["name"]: part for part in document["parts"]}

    def said(self) -> str:
        return self.output.read_text(encoding="utf-8")

    def until(self, what: str, condition: Callable[[], bool], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, f"gongkai up ended:\n{self.said()}"
            assert time.monotonic() < deadline, f"not {what} after {timeout}s:\n{self.said()}"
            time.sleep(0.1)

    def restarted(self, name: str, old_pid: int, restarts: int) -> bool:
        part = self.parts()[name]
        return bool(
            part["state"] == "running" and part["pid"] != old_pid and part["restarts"] == restarts
        )

    def status(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*GONGKAI, "status", "--data-dir", str(self.data)],
            capture_output=True,
            text=True,
            env=WITHOUT_GONGKAI_SETTINGS | {"COLUMNS": "200"},
        )


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    data = tmp_path_factory.mktemp("supervised")
    first = free_port_run(len(SERVICES) + 1) + 1  # the console's port before
    options = ["--restart-delay", "0.2", "--restart-limit", str(LIMIT)]
    options += ["--restart-window", str(WINDOW), "--port-offset", str(first - 8101)]
    output = data / "up.out"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [*GONGKAI, "up", "--data-dir", str(data), "--no-demo", *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=WITHOUT_GONGKAI_SETTINGS | {"COLUMNS": "200"},
        )
    started = Up(process, data, first, output)
    try:
        started.until(
            "all running",
            lambda: (
                len(started.parts()) == 2 + len(SERVICES) + 1  # the console too
                and all(p["state"] == "running" for p in started.parts().values())
            ),
            timeout=180,
        )
        yield started
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, started.said()
    assert {p["state"] for p in started.parts().values()} == {"stopped"}
    assert started.status().returncode == 1  # not running any more


def create_county(up: Up, county: str) -> httpx.Response:
    key, _ = signing_key(up.data)  # the stack's issuer (identity's), kid local-dev
    return httpx.post(
        f"{up.url('pledge')}/v1/counties",
        json={"county_id": county, "name": "测试县"},
        headers=bearer(key, "county_admin", county),
        timeout=10,
    )


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_killed_service_is_restarted_and_serves_while_the_others_keep_answering(
    up: Up,
) -> None:
    review = up.url("review")
    probes: list[bool] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            probes.append(answers(review))
            time.sleep(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        old = up.parts()["pledge"]["pid"]
        os.kill(old, signal.SIGKILL)
        up.until("pledge restarted", lambda: up.restarted("pledge", old, 1))
        assert answers(up.url("pledge"))
        created = create_county(up, "gulang")
        assert created.status_code == 201, created.text
    finally:
        done.set()
        prober.join()
    assert len(probes) > 10
    assert all(probes), "review stopped answering meanwhile"
    said = up.said()
    assert "pledge died (killed by SIGKILL (signal 9)); restarting in 0.2s, at " in said
    assert "pledge is serving again (pid " in said
    shown = up.status()
    assert shown.returncode == 0, shown.stdout
    assert "killed by SIGKILL" in shown.stdout  # pledge's last exit


def test_a_killed_nats_server_comes_back_with_its_streams(up: Up) -> None:
    passwords = json.loads((up.data / "nats" / "passwords.json").read_text(encoding="utf-8"))
    config = (up.data / "nats" / "nats.conf").read_text(encoding="utf-8")
    port = int(config.split('listen: "127.0.0.1:', 1)[1].split('"', 1)[0])
    url = f"nats://gongkai:{passwords['gongkai']}@127.0.0.1:{port}"

    def messages() -> int:
        async def count() -> int:
            nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
            try:
                info = await nc.jetstream().stream_info("GONGKAI_PLEDGE")
                return int(info.state.messages)
            finally:
                await nc.close()

        return asyncio.run(count())

    assert create_county(up, "minqin").status_code == 201
    up.until("the county on the stream", lambda: messages() >= 1, timeout=30)
    before = messages()
    old = up.parts()["nats"]["pid"]
    os.kill(old, signal.SIGKILL)
    up.until("nats restarted", lambda: up.restarted("nats", old, 1), timeout=60)
    assert messages() == before  # the stream on disk, whole
    assert "nats died (killed by SIGKILL (signal 9)); restarting in 0.2s" in up.said()
    up.until("pledge ready again", lambda: answers(up.url("pledge")), timeout=60)
    assert create_county(up, "liangzhou").status_code == 201
    up.until("the new event published", lambda: messages() == before + 1, timeout=60)


def test_a_killed_postgres_comes_back_and_the_services_with_it(up: Up) -> None:
    old = up.parts()["postgres"]["pid"]
    os.kill(old, signal.SIGKILL)
    up.until("postgres restarted", lambda: up.restarted("postgres", old, 1), timeout=60)
    assert "postgres died (killed by SIGKILL (signal 9)); restarting in 0.2s" in up.said()
    deadline = time.monotonic() + 60
    while (created := create_county(up, "tianzhu")).status_code != 201:  # pools reconnect
        assert time.monotonic() < deadline, created.text
        time.sleep(0.5)
    assert up.process.poll() is None


def test_a_service_that_keeps_dying_is_given_up_and_the_others_serve(up: Up) -> None:
    """The killed notification service cannot come back: its port is taken."""
    url = up.url("notification")
    port = int(url.rsplit(":", 1)[1])
    old = up.parts()["notification"]["pid"]
    os.kill(old, signal.SIGKILL)
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    deadline = time.monotonic() + 5
    while True:
        try:
            squatter.bind(("127.0.0.1", port))
            break
        except OSError:
            assert time.monotonic() < deadline, "the killed service's port stayed taken"
            time.sleep(0.01)
    squatter.listen()
    try:
        up.until(
            "notification given up",
            lambda: up.parts()["notification"]["state"] == "given up",
            timeout=180,
        )
    finally:
        squatter.close()
    said = up.said()
    given_up = re.escape(
        f"after {LIMIT} restarts within {WINDOW}s: given up, not restarted; "
        f"the others keep serving; see {up.data / 'logs' / 'notification.log'}"
    )
    assert re.search(rf"notification died \(exit code [1-9]\d*\) {given_up}", said), said
    time.sleep(1)  # not restarted any more, and the others still serve
    assert up.parts()["notification"]["state"] == "given up"
    assert up.parts()["notification"]["restarts"] == LIMIT
    for service in ("pledge", "review", "evaluation"):
        assert answers(up.url(service)), service
    assert up.process.poll() is None
    shown = up.status()
    assert shown.returncode == 3, shown.stdout
    assert "given up" in shown.stdout
