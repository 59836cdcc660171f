"""A 3-node JetStream cluster on loopback: three nats-server processes from the wheel, each
running deploy/nats-cluster.conf (the production file) with its host names, ports and data
directory replaced, so the tests exercise the configuration production uses."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from pathlib import Path

from shared.embedded import EmbeddedNats, free_port
from shared.messaging import connect

DEPLOYED = Path(__file__).parents[2] / "deploy" / "nats-cluster.conf"
ACCOUNTS = DEPLOYED.with_name("nats-accounts.conf")  # included by it, beside it
PASSWORDS = {"GONGKAI_NATS_PASSWORD": "cluster-secret", "GONGKAI_NATS_ARCHIVE_PASSWORD": "ro"}
NODES = 3


class ClusterNode(EmbeddedNats):
    def __init__(self, data_dir: Path, name: str, route_ports: dict[str, int]) -> None:
        super().__init__(data_dir, env=PASSWORDS, secured=False)  # the deployed file, as is
        self.name = name
        self.route_ports = route_ports  # node name -> its cluster (route) port

    def write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        text = DEPLOYED.read_text(encoding="utf-8")
        text = text.replace("$NATS_SERVER_NAME", self.name)
        text = text.replace("listen: 0.0.0.0:4222", f'listen: "127.0.0.1:{self.port}"')
        text = re.sub(r"http: .*\n", "", text)  # no monitoring port needed here
        text = text.replace("/data/jetstream", str(self.data_dir / "jetstream"))
        text = text.replace("0.0.0.0:6222", f"127.0.0.1:{self.route_ports[self.name]}")
        for node, port in self.route_ports.items():
            text = text.replace(f"nats-route://{node}:6222", f"nats-route://127.0.0.1:{port}")
        config = self.data_dir / "nats.conf"
        config.write_text(text, encoding="utf-8")
        shutil.copy(ACCOUNTS, self.data_dir / ACCOUNTS.name)
        return config


class EmbeddedCluster:
    def __init__(self, root: Path) -> None:
        names = [f"nats-{n}" for n in range(1, NODES + 1)]
        routes = {name: free_port() for name in names}
        self.nodes = [ClusterNode(root / name, name, routes) for name in names]

    @property
    def url(self) -> str:
        """Every node, comma-separated, as GONGKAI_NATS_URL takes it, as the services' user."""
        login = f"gongkai:{PASSWORDS['GONGKAI_NATS_PASSWORD']}@"
        return ",".join(node.url.replace("nats://", f"nats://{login}") for node in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


async def wait_for_jetstream(cluster: EmbeddedCluster, timeout: float = 30) -> None:
    """Until the cluster has a JetStream meta leader (streams can be made)."""
    nc = await connect(cluster.url, name="cluster-probe")
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                await nc.jetstream().account_info()
                return
            except Exception:
                assert time.monotonic() < deadline, "the cluster elected no JetStream leader"
                await asyncio.sleep(0.5)
    finally:
        await nc.close()
