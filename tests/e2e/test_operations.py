"""What an operator's monitoring reads: liveness, readiness and the Prometheus metrics,
relay lag among them (a service whose relay falls behind shows it here)."""

from __future__ import annotations

import re

from tests.e2e.helpers import Directory, eventually, ok
from tests.support import RunningService, Servers


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of one sample in the Prometheus text format, None if it is not there."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics.splitlines():
        if match := re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line):
            got = ",".join(sorted(match.group(1).split(",")))
            if got == wanted:
                return float(match.group(2))
    return None


async def test_health_readiness_and_metrics_with_relay_lag(
    servers: Servers, pledge_service: RunningService
) -> None:
    c = pledge_service.client
    assert ok(await c.get("/healthz")) == {"status": "ok"}
    ready = ok(await c.get("/readyz"))
    assert ready["ready"] is True
    assert ready["checks"]
    assert all(ready["checks"].values())

    await Directory(c, servers).build()
    appended = await pledge_service.runtime.pool.fetchval("SELECT count(*) FROM events")
    assert appended > 0

    async def caught_up() -> bool:
        metrics = (await c.get("/metrics")).text
        return sample(metrics, "gongkai_relay_lag_events", service="pledge") == 0.0

    await eventually(caught_up)
    response = await c.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    metrics = response.text
    published = sample(metrics, "gongkai_relay_published_total", service="pledge")
    assert published is not None
    assert published >= appended  # other tests' pledge services share the process's registry
    enrolled = sample(
        metrics, "gongkai_events_appended_total", service="pledge", type="MemberEnrolled"
    )
    assert enrolled is not None
    assert enrolled >= 1
    assert "gongkai_http_request_seconds_count{" in metrics
