"""Beyond one machine: the services on a 3-node JetStream cluster (deploy/nats-cluster.conf),
streams replicated 3 times. Under a steady load, kill -9 one node, bring it back, then the
next: nothing lost, and the longest stall of a consumer is measured and reported."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.messaging import connect
from tests.faults.checker import check_nothing_lost
from tests.faults.cluster import EmbeddedCluster, wait_for_jetstream
from tests.faults.load import SteadyLoad, enrolment, establish_place
from tests.faults.progress import ProgressWatch
from tests.faults.stack import Stack
from tests.support import Servers

SIZES = [  # (nodes killed one after another, seconds each stays down)
    pytest.param(2, 3.0, id="bounded"),
    pytest.param(9, 10.0, id="long", marks=pytest.mark.slow),
]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    nodes = EmbeddedCluster(tmp_path / "cluster")
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


@pytest.mark.parametrize(("kills", "down"), SIZES)
async def test_kill_9_cluster_nodes_one_after_another_under_load(
    fault_servers: Servers, cluster: EmbeddedCluster, tmp_path: Path, kills: int, down: float
) -> None:
    await wait_for_jetstream(cluster)
    stack = Stack(fault_servers, tmp_path, nats_url=cluster.url, replicas=3)
    try:
        stack.start()
        load = SteadyLoad(stack, enrolment(establish_place(stack, fault_servers)), count=10**6)
        load.start()
        watch = ProgressWatch(stack).start()
        for n in range(kills):
            node = cluster.nodes[n % len(cluster.nodes)]
            await asyncio.sleep(1.5)
            await asyncio.to_thread(node.kill)
            await asyncio.sleep(down)
            await asyncio.to_thread(node.start)
        await asyncio.sleep(1.5)
        await load.stop()
        report = await check_nothing_lost(stack, [load], timeout=120)
        stall = await watch.stop()
        assert not load.attempted  # commands need PostgreSQL only: every one acknowledged
        nc = await connect(cluster.url, name="replicas-probe")
        try:
            info = await nc.jetstream().stream_info(stack.subjects.stream("pledge"))
            assert info.config.num_replicas == 3
        finally:
            await nc.close()
    finally:
        stack.stop()
    print(
        f"\n3-node cluster, {kills} nodes killed for {down}s each: {report}; longest consumer "
        f"stall {stall:.1f}s, longest gap between acknowledged commands "
        f"{load.longest_stall():.2f}s"
    )
