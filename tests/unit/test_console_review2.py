"""Review of issue 18/20's day (review2): invitations by SMS go out several at a time (a
sheet of many raters' codes, shown only once, must not wait for each message in turn past
the console's limit), the log's export refuses a range that ends before it starts, naming
the field, as the console does, and a committee member the directory makes the township's
head holds the head's seat (it ends with her successor's appointment), the office sees
a branch's assigned leader who has left the committee (R1: the branch is not covered), and a
delivery's failure keeps no mailbox a mail server named (the auditor reads it now)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.evaluation.api import voting as voting_api
from services.identity import commands as c
from services.identity import handlers as h
from services.notification.delivery.channels import DeliverySettings
from services.notification.delivery.worker import Worker
from shared.auth import Role
from shared.embedded import free_port
from shared.errors import InvalidState
from tests.e2e.helpers import eventually, ok
from tests.e2e.review_helpers import seats_copied
from tests.unit import test_console_countypages as countypages
from tests.unit import test_console_leaders as leaders
from tests.unit import test_identity_handlers as identity_world
from tests.unit.test_console_countypages import County, form, shown
from tests.unit.test_console_leaders import Township
from tests.unit.test_identity_handlers import ADMIN

county = countypages.county  # the small county and its services (the pledge service's log)
town = leaders.town  # a township with its committee, review and evaluation services


class SlowSms:
    """An SMS channel that takes its time over each message, counting those in flight."""

    def __init__(self) -> None:
        self.in_flight = self.most = 0
        self.sent: list[str] = []

    async def send(
        self, phone: str, template: str, params: dict[str, str], *, sign_name: str | None = None
    ) -> None:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0.05)
        self.in_flight -= 1
        self.sent.append(phone)


async def test_invitations_go_by_sms_several_at_a_time() -> None:
    sms = SlowSms()
    runtime = SimpleNamespace(
        components={"sms": sms}, settings=SimpleNamespace(public_base_url="https://gk.example")
    )
    request: Any = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(runtime=runtime)))
    phones = [f"1391234{n:04d}" for n in range(20)]
    slips = [
        {"rater_id": f"rt-{n}", "code": f"CODE-{n}", "phone": phone, "by_sms": True}
        for n, phone in enumerate(phones)
    ]
    view = {"township": "红沙梁镇", "title": "硬化村道", "closes_on": "2027-03-20"}
    await voting_api._send(request, {"id": "c-1", "view": view, "invitations": slips})
    assert sorted(sms.sent) == phones  # every one sent, once
    assert sms.most > 1  # not one after another
    assert sms.most <= voting_api.SMS_AT_ONCE  # nor all at once
    assert all(s["by_sms"] and not s.get("sms_failed") for s in slips)


async def test_an_export_ending_before_it_starts_is_refused_naming_the_field(
    county: County,
) -> None:
    auditor = county.servers.auth("auditor", county.directory.county)
    pledge = county.api("pledge")
    span = {"from": "2027-03-02T00:00:00+08:00", "to": "2027-03-01T23:59:59+08:00"}
    refused = await pledge.get("/v1/audit/export", params=span, headers=auditor)
    assert refused.status_code == 422
    problem = refused.json()
    assert [e["field"] for e in problem["errors"]] == ["to"]
    assert "早于" in problem["detail"]
    naive_from = {"from": "2027-03-02T00:00:00", "to": "2027-03-01T00:00:00+08:00"}
    assert (await pledge.get("/v1/audit/export", params=naive_from, headers=auditor)).json()[
        "errors"
    ] == [{"field": "to", "reason": problem["detail"]}]
    same_day = {"from": "2027-03-01T00:00:00+08:00", "to": "2027-03-01T23:59:59+08:00"}
    bundle = await pledge.get("/v1/audit/export", params=same_day, headers=auditor)
    assert bundle.status_code == 200  # a day's range: a bundle
    assert bundle.headers["content-type"] == "application/zip"


async def test_a_committee_member_made_head_then_succeeded_leaves_as_the_head_before() -> None:
    """The county granted her the committee's post; the directory then made her the head:
    from then on her seat is the head's (the directory's), so the county cannot revoke it
    from a sitting head, and when a new head is appointed she leaves as the head before."""
    w = await identity_world.county()
    member = await identity_world.register(w, name="刘建国")
    seat = c.GrantPost(role=Role.TOWNSHIP_COMMITTEE, org="t1")
    await h.grant_post(w.memory.as_(ADMIN), member, seat, ADMIN)
    await w.directory("TownshipHeadAppointed", township_id="t1", person_id=member, name="刘建国")
    assert await identity_world.posts(w, "h1") == set()  # the head before her leaves
    assert await identity_world.posts(w, member) == {("township_committee", "t1")}
    unseat = c.RevokePost(role=Role.TOWNSHIP_COMMITTEE, org="t1")
    with pytest.raises(InvalidState) as refused:  # a sitting head's seat follows the directory
        await h.revoke_post(w.memory.as_(ADMIN), member, unseat, ADMIN)
    assert "请在“乡镇与日历”中任命新的党委书记" in refused.value.detail  # not the branches'
    await w.directory("TownshipHeadAppointed", township_id="t1", person_id="h3", name="张书记")
    assert await identity_world.posts(w, member) == set()  # she leaves as the head before
    assert await identity_world.posts(w, "h3") == {("township_committee", "t1")}


async def test_the_office_sees_an_assigned_leader_who_left_the_committee(town: Township) -> None:
    """R1 (全覆盖): a branch whose leader the county took off the committee is not covered
    any more; the office's page says so beside the name, to end the assignment."""
    d, admin = town.d, town.servers.auth("county_admin", town.d.county)
    identity = town.api("identity")
    body = {"name": "陈卫东", "county_id": d.county}
    leaving = ok(await identity.post("/v1/people", json=body, headers=admin), 201)["id"]
    seat = {"role": "township_committee", "org": d.township}
    ok(await identity.post(f"/v1/people/{leaving}/posts", json=seat, headers=admin), 201)
    await seats_copied(town.services["review"], d.township, leaving)
    office, csrf = town.as_("township_office", d.township)
    for leader in (town.leader, leaving):
        sent = form(csrf, branch_id=d.branch, leader_id=leader)
        assert (await office.post("/leaders", data=sent)).status_code == 303
    assert "已不在镇党委" not in shown(await office.get("/leaders"))
    revoke = {"role": "township_committee", "org": d.township}
    path = f"/v1/people/{leaving}/posts/revocation"
    ok(await identity.post(path, json=revoke, headers=admin))
    row = shown(await office.get("/leaders")).split("陈卫东", 1)[1].split("</span>\n", 1)[0]
    assert "已不在镇党委，不能点评" in row
    assert shown(await office.get("/leaders")).count("已不在镇党委") == 1  # not 刘建国


class RefusingMailbox:
    """A mail server that refuses the recipient, naming the address, as servers do."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return f"550 5.1.1 <{address}>: Recipient address rejected"


async def test_a_refused_mailbox_is_in_no_delivery_failure(county: County) -> None:
    """The channel's address is never shown back (only its domain): not in the failure the
    log keeps either, which the county's auditor now reads on the deliveries page."""
    d, admin = county.directory, county.servers.auth("county_admin", county.directory.county)
    notification = county.services["notification"]
    mailbox = "wang.xiaoming@minqin.example"
    channel = {
        "county_id": d.county,
        "township_id": d.township,
        "kind": "email",
        "name": "镇办邮箱",
        "target": mailbox,
        "release_types": ["bulletin"],
    }
    ok(await notification.client.post("/v1/channels", json=channel, headers=admin), 201)
    bulletin = {"title": "邮箱退信督查通报"}
    path = f"/v1/townships/{d.township}/bulletins"
    ok(await notification.client.post(path, json=bulletin, headers=d.office), 201)

    async def deliveries() -> list[dict[str, Any]]:
        answer = await notification.client.get(
            "/v1/deliveries", params={"county_id": d.county}, headers=admin
        )
        return [x for x in ok(answer)["deliveries"] if x["subject"] == "邮箱退信督查通报"]

    await eventually(deliveries)
    port = free_port()
    server = Controller(RefusingMailbox(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        settings = DeliverySettings(smtp_host="127.0.0.1", smtp_port=port)
        assert await Worker(notification.runtime, settings).deliver_due() >= 1
    finally:
        server.stop()
    [failed] = await deliveries()
    assert failed["attempts"] == 1
    assert "Recipient address rejected" in failed["last_error"]  # the server's reason stays
    assert mailbox not in failed["last_error"]
    auditor, _ = county.desk("auditor", d.county)
    assert mailbox not in shown(await auditor.get("/deliveries"))
