"""Faults (issue 7, first part): kill -9 a service process between commit and publish, and
in the middle of a stream of commands; after a restart nothing acknowledged is missing,
nothing is invented, every event reached the stream exactly once, the chain verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.embedded import free_port
from shared.envelope import GENESIS_HASH
from shared.messaging import Subjects, connect
from shared.testing import Servers
from tests.e2e.helpers import eventually
from tests.integration.test_relay import stream_contents


class PledgeProcess:
    """The pledge service as a real process, killed and restarted by the test."""

    def __init__(self, servers: Servers, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        run = uuid.uuid4().hex[:8]
        self.database = f"gongkai_pledge_{run}"
        self.subjects = Subjects(f"f{run}")
        self.env = os.environ | {
            "GONGKAI_SERVICE": "pledge",
            "GONGKAI_PORT": str(self.port),
            "GONGKAI_DATABASE_URL": servers.postgres.dsn,
            "GONGKAI_DATABASE_NAME": self.database,
            "GONGKAI_NATS_URL": servers.nats.url,
            "GONGKAI_NATS_SUBJECT_ROOT": self.subjects.root,
            "GONGKAI_JWT_PUBLIC_KEY_FILE": str(servers.key_file),
        }
        self.log = tmp / "pledge.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, relay: bool = True) -> None:
        env = self.env | {"GONGKAI_RELAY_ENABLED": "true" if relay else "false"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.pledge.app"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError(self.log.read_text())

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def pledge(servers: Servers, tmp_path: Path) -> Iterator[PledgeProcess]:
    process = PledgeProcess(servers, tmp_path)
    try:
        yield process
    finally:
        process.stop()


def enrol(pledge: PledgeProcess, branch: str, office: dict[str, str], name: str) -> str | None:
    """One command; the member id if it was acknowledged, None if the process was gone."""
    try:
        response = httpx.post(
            f"{pledge.url}/v1/members",
            headers=office,
            timeout=5,
            json={"branch_id": branch, "name": name, "post": "党员责任岗", "duties": "联系群众"},
        )
    except httpx.HTTPError:
        return None
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_kill_9_between_commit_and_publish_and_mid_stream(
    servers: Servers, pledge: PledgeProcess
) -> None:
    admin = servers.auth("county_admin", "minqin")
    pledge.start(relay=False)  # commits happen, nothing is published: the crash window
    httpx.post(
        f"{pledge.url}/v1/counties", headers=admin, json={"county_id": "minqin", "name": "民勤县"}
    ).raise_for_status()
    township = httpx.post(
        f"{pledge.url}/v1/counties/minqin/townships", headers=admin, json={"name": "红沙梁镇"}
    ).json()["id"]
    office = servers.auth("township_office", township)
    branch = httpx.post(
        f"{pledge.url}/v1/branches",
        headers=office,
        json={"township_id": township, "name": "红沙梁村党支部", "kind": "village"},
    ).json()["id"]
    acknowledged = [enrol(pledge, branch, office, f"党员{i}") for i in range(20)]
    pledge.kill()  # kill -9 with 23 committed, unpublished events

    pledge.start()
    for i in range(20, 60):  # a stream of commands, killed in the middle
        if i == 40:
            pledge.kill()
            pledge.start()
        acknowledged.append(enrol(pledge, branch, office, f"党员{i}"))
    members = {m for m in acknowledged if m}
    assert len(members) == 60

    nc = await connect(servers.nats.url, name="checker")
    js = nc.jetstream()
    try:
        listed = httpx.get(f"{pledge.url}/v1/branches/{branch}").json()["members"]
        assert {m["member_id"] for m in listed} == members  # nothing lost, nothing invented

        stream = pledge.subjects.stream("pledge")

        async def all_published() -> bool:
            info = await js.stream_info(stream)
            return bool(info.state.messages == 63)

        await eventually(all_published, timeout=30)
        envelopes = await stream_contents(js, stream)
        assert len({e.id for e in envelopes}) == len(envelopes) == 63  # each exactly once
        enrolled = {e.data["member_id"] for e in envelopes if e.type == "MemberEnrolled"}
        assert enrolled == members
        previous: dict[str, str] = {}
        for envelope in sorted(envelopes, key=lambda e: (e.partition, e.sequence)):
            assert envelope.verifies_after(previous.get(envelope.partition, GENESIS_HASH))
            previous[envelope.partition] = envelope.hash
    finally:
        await nc.close()
