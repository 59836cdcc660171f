"""N5 by SMS, through the real stack: the pledge and notification services on PostgreSQL and
NATS, and a local Alibaba Cloud SMS provider (tests/support/sms_provider.py) that verifies
every request's signature. An overdue notice reaches the one person it is addressed to who
has a phone registered, as the county's SMS template; the phone is in the log and the read
model only sealed; a permanent refusal is dead-lettered at once; removal erases the phone."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from services.notification.app import DEFINITION
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.notification_helpers import directory_on_board, pledge_and_notification
from tests.support import Servers, rebuilt_as_live
from tests.support.sms_provider import SIGN_NAME, SmsProvider

PHONE = "13812340000"
OUT_OF_SERVICE = "13900001234"  # a mainland number the provider refuses for good


@pytest.fixture
async def provider(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SmsProvider]:
    templates = {"reminder": "SMS_2001", "overdue": "SMS_2002"}
    async with SmsProvider().configured(monkeypatch, templates) as sms:
        monkeypatch.setenv("GONGKAI_SCHEDULER_INTERVAL", "3600")
        monkeypatch.setenv("GONGKAI_DELIVERY_INTERVAL", "3600")
        yield sms


async def test_an_overdue_notice_reaches_the_person_by_sms(
    servers: Servers, provider: SmsProvider
) -> None:
    async with pledge_and_notification(servers) as (pledge, notification):
        d = await Directory(pledge.client, servers).build()
        board, worker = notification.client, notification.runtime.components["worker"]
        pool = notification.runtime.pool
        admin = d.as_("county_admin", d.county)
        await directory_on_board(notification, d)

        provider.out_of_service.add(OUT_OF_SERVICE)
        sms = {"county_id": d.county, "kind": "sms", "name": "短信", "target": SIGN_NAME}
        ok(
            await board.post(
                "/v1/channels", json=sms | {"release_types": ["overdue"]}, headers=admin
            ),
            201,
        )
        phone = f"/v1/people/{d.secretary}/phone"
        refused = await board.post(phone, json={"phone": PHONE}, headers=d.the_member)
        assert refused.status_code == 403
        ok(await board.post(phone, json={"phone": PHONE}, headers=d.office))
        ok(
            await board.post(
                f"/v1/people/{d.member}/phone", json={"phone": OUT_OF_SERVICE}, headers=d.office
            )
        )

        async def registered() -> bool:
            return await pool.fetchval("SELECT count(*) FROM contacts") == 2

        await eventually(registered)
        log = b"".join(bytes(r["body"]) for r in await pool.fetch("SELECT body FROM events"))
        assert PHONE.encode() not in log
        assert PHONE not in json.dumps(
            [dict(r) for r in await pool.fetch("SELECT * FROM contacts")], default=str
        )

        # the drafting deadline passes: the secretary, the member and the office are chased;
        # the office has no phone, the member's number is refused by the provider for good
        notification.clock.set(datetime(2027, 3, 16, 1, tzinfo=UTC))
        assert await worker.tick() >= 3
        attempted = await worker.deliver_due()
        # the secretary's notices (the drafting, and any other deadline overdue that day)
        assert attempted == len(provider.accepted) + 1
        assert {(s.phone, s.sign_name, s.template) for s in provider.accepted} == {
            (PHONE, SIGN_NAME, "SMS_2002")
        }
        drafting = {"title": "2027年公开承诺拟定", "due_on": "2027-03-15"}
        assert drafting in [s.params for s in provider.accepted]
        assert len({json.dumps(s.params) for s in provider.accepted}) == len(provider.accepted)
        assert provider.refused == ["isv.MOBILE_NUMBER_ILLEGAL"]

        async def deliveries(status: str) -> list[dict[str, Any]]:
            query = f"/v1/deliveries?county_id={d.county}&status={status}"
            return ok(await board.get(query, headers=admin))["deliveries"]

        assert len(await deliveries("delivered")) == len(provider.accepted)
        [dead] = await deliveries("dead")  # given up at once, not after the back-off
        assert dead["attempts"] == 1
        assert "isv.MOBILE_NUMBER_ILLEGAL" in dead["last_error"]
        assert OUT_OF_SERVICE not in dead["last_error"]

        # removed: the key is destroyed, and the sealed phone in the log reads as erased
        ok(await board.post(f"{phone}/removal", headers=admin))

        async def removed() -> bool:
            return await pool.fetchval("SELECT count(*) FROM contacts") == 1

        await eventually(removed)
        keys = await pool.fetchval(
            "SELECT count(*) FROM person_keys WHERE person_id = $1", d.secretary
        )
        assert keys == 0
        await rebuilt_as_live(pool, DEFINITION.read_models)  # contacts rebuild from the log
