"""N5: delivery to e-mail over SMTP (a real local aiosmtpd server), WeCom and DingTalk group
robots and Standard Webhooks (a local HTTP server standing in for each), retries with
back-off, the dead-letter list and an operator's redelivery; nothing is lost."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from services.notification.app import DEFINITION
from services.notification.delivery.channels import DeliverySettings
from services.notification.delivery.worker import Worker
from shared.embedded import free_port
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.notification_helpers import (
    directory_on_board,
    pledge_and_notification,
    publish_pledge,
)
from tests.support import Servers, rebuilt_as_live, serving

DINGTALK_SECRET = "SEC0123456789abcdef"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("GONGKAI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GONGKAI_SMTP_PORT", str(port))
    monkeypatch.setenv("GONGKAI_SMTP_SENDER", "gongkai@minqin.example")
    monkeypatch.setenv("GONGKAI_SCHEDULER_INTERVAL", "3600")
    monkeypatch.setenv("GONGKAI_DELIVERY_INTERVAL", "3600")
    try:
        yield box
    finally:
        controller.stop()


class Receiver:
    """Stands in for the robots and other systems: records every request."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.hook_failures = 2
        self.healed = False
        self.app = FastAPI()
        self.app.post("/{path:path}")(self.receive)

    async def receive(self, path: str, request: Request) -> Response:
        body = await request.body()
        self.got.append(
            {
                "path": path,
                "query": str(request.url.query),
                "headers": dict(request.headers),
                "body": body,
            }
        )
        if path in ("wecom", "dingtalk"):
            return JSONResponse({"errcode": 0, "errmsg": "ok"})
        if path == "hook" and self.hook_failures > 0:
            self.hook_failures -= 1
            return Response(status_code=500)
        if path == "down" and not self.healed:
            return Response(status_code=503)
        if path == "slow":
            await asyncio.sleep(0.3)  # long enough for another replica's pass to start
        return Response(status_code=204)

    def at(self, path: str) -> list[dict[str, Any]]:
        return [g for g in self.got if g["path"] == path]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    stand_in = Receiver()
    port = free_port()
    async with serving(stand_in.app, port):
        yield stand_in, f"http://127.0.0.1:{port}"


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return f"v1,{expected}" in headers["webhook-signature"].split(" ")


async def test_deliveries_are_retried_dead_lettered_redelivered_and_never_lost(
    servers: Servers, mailbox: Mailbox, receiver: tuple[Receiver, str]
) -> None:
    stand_in, url = receiver
    async with pledge_and_notification(servers) as (pledge, notification):
        d = await Directory(pledge.client, servers).build()
        board, worker, clock = (
            notification.client,
            notification.runtime.components["worker"],
            pledge.clock,
        )
        admin = d.as_("county_admin", d.county)

        await directory_on_board(notification, d)
        channels: dict[str, Any] = {}
        for name, kind, target, extra in (
            ("mail", "email", "leaders@minqin.example", {}),
            ("wecom", "wecom", f"{url}/wecom?key=abc", {}),
            (
                "dingtalk",
                "dingtalk",
                f"{url}/dingtalk?access_token=tok",
                {"secret": DINGTALK_SECRET},
            ),
            ("hook", "webhook", f"{url}/hook", {"township_id": d.township}),
            ("down", "webhook", f"{url}/down", {}),
        ):
            channels[name] = ok(
                await board.post(
                    "/v1/channels",
                    json={
                        "county_id": d.county,
                        "kind": kind,
                        "name": name,
                        "target": target,
                        "release_types": ["pledge_published"],
                        **extra,
                    },
                    headers=admin,
                ),
                201,
            )
        assert channels["hook"]["secret"].startswith("whsec_")
        assert channels["mail"]["secret"] is None
        listed = ok(await board.get(f"/v1/channels?county_id={d.county}", headers=admin))
        assert "whsec_" not in json.dumps(listed)
        assert DINGTALK_SECRET not in json.dumps(listed)
        shown = {c["name"]: c["shown_as"] for c in listed["channels"]}
        assert shown["mail"] == "…@minqin.example"
        assert shown["wecom"] == f"{url}/…"
        # events are published to other systems: no robot key, secret or address in them
        published = await notification.runtime.pool.fetch("SELECT body FROM events")
        log = b"".join(bytes(r["body"]) for r in published).decode()
        for credential in ("key=abc", "access_token=tok", DINGTALK_SECRET, "whsec_", "leaders@"):
            assert credential not in log, credential

        pledge_id, _ = await publish_pledge(pledge, d, ["改造支渠3公里", "推广滴灌300亩"])

        async def deliveries(status: str | None = None) -> list[dict[str, Any]]:
            query = f"/v1/deliveries?county_id={d.county}" + (f"&status={status}" if status else "")
            return ok(await board.get(query, headers=admin))["deliveries"]

        async def scheduled() -> bool:
            return len(await deliveries()) == 5

        await eventually(scheduled)
        assert await worker.deliver_due() == 5

        # e-mail, read back from the SMTP server
        [mail] = mailbox.messages
        assert mail["To"] == "leaders@minqin.example"
        assert "红沙梁村党支部" in str(make_header(decode_header(mail["Subject"])))
        assert "改造支渠3公里" in mail.get_payload(decode=True).decode()
        # WeCom group robot: markdown message
        [wecom] = stand_in.at("wecom")
        assert parse_qs(wecom["query"])["key"] == ["abc"]
        sent = json.loads(wecom["body"])
        assert sent["msgtype"] == "markdown"
        assert "推广滴灌300亩" in sent["markdown"]["content"]
        # DingTalk group robot: the signed URL (timestamp + HMAC-SHA256, base64)
        [ding] = stand_in.at("dingtalk")
        query = parse_qs(urlsplit(f"{url}?{ding['query']}").query)
        stamp = query["timestamp"][0]
        digest = hmac.new(
            DINGTALK_SECRET.encode(), f"{stamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
        ).digest()
        assert query["sign"] == [base64.b64encode(digest).decode()]
        assert query["access_token"] == ["tok"]
        assert json.loads(ding["body"])["markdown"]["title"] == "红沙梁村党支部"

        # the webhook fails twice and is retried with back-off, then succeeds
        assert len(stand_in.at("hook")) == 1
        assert await worker.deliver_due() == 0  # not due before the back-off
        clock.advance(timedelta(seconds=11))
        assert await worker.deliver_due() == 2  # the hook and the endpoint that is down
        clock.advance(timedelta(seconds=61))
        await worker.deliver_due()
        hooks = stand_in.at("hook")
        assert len(hooks) == 3
        assert len({h["headers"]["webhook-id"] for h in hooks}) == 1  # one message, retried
        secret = channels["hook"]["secret"]
        assert all(verify_standard_webhook(secret, h["headers"], h["body"]) for h in hooks)
        assert not verify_standard_webhook(
            "whsec_" + base64.b64encode(b"x" * 24).decode(), hooks[-1]["headers"], hooks[-1]["body"]
        )
        payload = json.loads(hooks[-1]["body"])
        assert payload["type"] == "pledge_published"
        assert payload["data"]["content"]["pledge_id"] == pledge_id

        # the endpoint that stays down is given up after the last back-off: the dead letters
        for wait in (5, 30, 120, 240):
            clock.advance(timedelta(minutes=wait + 1))
            await worker.deliver_due()
        [dead] = await deliveries("dead")
        assert dead["channel_id"] == channels["down"]["id"]
        assert dead["attempts"] == 6
        assert "503" in dead["last_error"]
        assert len(stand_in.at("down")) == 6
        assert len(await deliveries("delivered")) == 4

        # an operator redelivers once the system is back; nothing was lost
        stand_in.healed = True
        forbidden = await board.post(
            f"/v1/deliveries/{dead['delivery_id']}/redelivery", headers=d.office
        )
        assert forbidden.status_code == 403
        ok(await board.post(f"/v1/deliveries/{dead['delivery_id']}/redelivery", headers=admin))
        assert await worker.deliver_due() == 1
        assert await deliveries("dead") == []
        assert len(await deliveries("delivered")) == 5
        assert len(stand_in.at("down")) == 7
        again = await board.post(f"/v1/deliveries/{dead['delivery_id']}/redelivery", headers=admin)
        assert again.status_code == 409

        # a retired channel receives nothing more
        ok(await board.post(f"/v1/channels/{channels['wecom']['id']}/retirement", headers=admin))
        await publish_pledge(pledge, d, ["带动10户节水"], member=True)

        async def four_more() -> bool:
            return len(await deliveries()) == 9

        await eventually(four_more)
        await worker.deliver_due()
        assert len(stand_in.at("wecom")) == 1
        assert len(mailbox.messages) == 2

        # notices and bulletins go out too (N3, N4): overdue drafting, the monthly bulletins
        # of both townships and an ad hoc one, to the leading group's mailbox
        ok(
            await board.post(
                "/v1/channels",
                json={
                    "county_id": d.county,
                    "kind": "email",
                    "name": "leading group",
                    "target": "group@minqin.example",
                    "release_types": ["overdue", "bulletin"],
                },
                headers=admin,
            ),
            201,
        )
        notification.clock.set(datetime(2027, 3, 16, 1, tzinfo=UTC))
        assert await worker.tick() >= 4  # drafting: the secretary and the office; bulletins
        ok(
            await board.post(
                f"/v1/townships/{d.township}/bulletins",
                json={"title": "节水专项督查通报", "note": "抽查滴灌推广"},
                headers=d.office,
            ),
            201,
        )
        await worker.deliver_due()
        subjects = sorted(
            str(make_header(decode_header(m["Subject"])))
            for m in mailbox.messages
            if m["To"] == "group@minqin.example"
        )
        assert subjects.count("2027年2月督查通报") == 2  # one per township
        assert subjects.count("【逾期】2027年公开承诺拟定") == 2  # the secretary, the office
        assert subjects.count("节水专项督查通报") == 1
        assert all(s.startswith("【逾期】") or "督查通报" in s for s in subjects)
        overdue = next(
            m for m in mailbox.messages if "拟定" in str(make_header(decode_header(m["Subject"])))
        )
        assert "尚未完成" in overdue.get_payload(decode=True).decode()

        runtime = notification.runtime
        await rebuilt_as_live(runtime.pool, DEFINITION.read_models)


async def test_two_replicas_passing_at_once_send_each_message_once(
    servers: Servers, receiver: tuple[Receiver, str]
) -> None:
    """Two notification processes on one database: the deliveries one is sending are not
    sent again by the other's pass (the pass is one replica's at a time)."""
    stand_in, url = receiver
    async with pledge_and_notification(servers) as (pledge, notification):
        d = await Directory(pledge.client, servers).build()
        board, worker = notification.client, notification.runtime.components["worker"]
        admin = d.as_("county_admin", d.county)

        await directory_on_board(notification, d)
        for name in ("slow-a", "slow-b"):
            body = {"county_id": d.county, "kind": "webhook", "name": name}
            body |= {"target": f"{url}/slow", "release_types": ["pledge_published"]}
            ok(await board.post("/v1/channels", json=body, headers=admin), 201)
        await publish_pledge(pledge, d, ["改造支渠3公里"])

        async def scheduled() -> bool:
            query = f"/v1/deliveries?county_id={d.county}&status=pending"
            return len(ok(await board.get(query, headers=admin))["deliveries"]) == 2

        await eventually(scheduled)
        replica = Worker(notification.runtime, DeliverySettings())
        try:
            passes = await asyncio.gather(worker.deliver_due(), replica.deliver_due())
        finally:
            await replica.http.aclose()
        assert sorted(passes) == [0, 2]
        assert len(stand_in.at("slow")) == 2
        assert await worker.deliver_due() == 0  # and nothing is left to send
