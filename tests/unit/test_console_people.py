"""Finding a person, and the auditor's read-only channels and deliveries (issue 18's "not
yet"): the identity service's people found by part of their name (paged, refused in Chinese
beside the field when the text is bad, for the same posts as the list) and by the login name
they sign in with (the county administrator only, in a body, compared by its keyed hash);
the accounts page's two search boxes; the county's auditor reading its channels and every
delivery with why each failed, with no form, and an auditor of another county refused. The
real identity, pledge and notification services and the console app over httpx (ASGI)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from tests.e2e.helpers import eventually, ok
from tests.unit import test_console_countypages as countypages
from tests.unit.test_console_countypages import County, form, shown

county = countypages.county  # the same small county, its three services and the console
PHONE, OTHER_PHONE = "13800138000", "13900139000"
NAMES = ("王小明", "王芳", "欧阳明", "Zhang Wei")


async def registered(county: County) -> dict[str, str]:
    """The people of NAMES registered by the county administrator (once per module): ids by
    name; 王小明 with PHONE as his login name."""
    api, d = county.api("identity"), county.directory
    admin = county.servers.auth("county_admin", d.county)
    listed = ok(await api.get("/v1/people", params={"county_id": d.county}, headers=admin))
    ids = {p["name"]: p["person_id"] for p in listed["items"] if p["name"] in NAMES}
    for name in NAMES:
        if name not in ids:
            body = {"name": name, "county_id": d.county}
            ids[name] = ok(await api.post("/v1/people", json=body, headers=admin), 201)["id"]
    path = f"/v1/people/{ids['王小明']}/activation"
    ok(await api.post(path, json={"login_name": PHONE}, headers=admin), 201)
    return ids


async def found(county: County, headers: dict[str, str], **params: Any) -> httpx.Response:
    return await county.api("identity").get(
        "/v1/people", params={"county_id": county.directory.county, **params}, headers=headers
    )


async def test_people_are_found_by_part_of_their_name(county: County) -> None:
    ids = await registered(county)
    d = county.directory
    admin = county.servers.auth("county_admin", d.county)
    names = lambda answer: {p["name"] for p in ok(answer)["items"]}  # noqa: E731
    assert names(await found(county, admin, name="王")) == {"王小明", "王芳"}
    assert names(await found(county, admin, name="明")) == {"王小明", "欧阳明"}
    assert names(await found(county, admin, name=" 欧阳 ")) == {"欧阳明"}
    assert names(await found(county, admin, name="zhang")) == {"Zhang Wei"}  # any case
    assert names(await found(county, admin, name="%")) == set()  # no wildcard
    assert names(await found(county, admin, name="_")) == set()
    assert names(await found(county, admin, name="秀英")) == {"李秀英"}  # from the directory
    # paged: the total is of every match, the page holds `limit`
    first = ok(await found(county, admin, name="王", limit=1))
    second = ok(await found(county, admin, name="王", limit=1, offset=1))
    assert first["total"] == second["total"] == 2
    assert {first["items"][0]["person_id"], second["items"][0]["person_id"]} == {
        ids["王小明"],
        ids["王芳"],
    }
    # the county's auditor reads as the list allows; others are refused, in Chinese
    assert names(await found(county, county.servers.auth("auditor", d.county), name="王"))
    for who in (
        county.servers.auth("township_office", d.township),
        county.servers.auth("county_admin", "c-elsewhere"),
        county.servers.auth("auditor", "c-elsewhere"),
    ):
        refused = await found(county, who, name="王")
        assert refused.status_code == 403
        assert "县管理员" in refused.json()["detail"]


async def test_a_bad_name_to_find_is_a_problem_naming_the_field(county: County) -> None:
    admin = county.servers.auth("county_admin", county.directory.county)
    for bad in ("", "   ", "王\x07", "王" * 65, "王\u202e"):
        answer = await found(county, admin, name=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        (error,) = answer.json()["errors"]
        assert error["field"] == "name"


async def test_a_login_name_finds_its_person_for_the_administrator_only(county: County) -> None:
    ids = await registered(county)
    d, api = county.directory, county.api("identity")
    admin = county.servers.auth("county_admin", d.county)

    async def lookup(login_name: str, headers: dict[str, str], county_id: str = d.county) -> Any:
        body = {"county_id": county_id, "login_name": login_name}
        return await api.post("/v1/people/lookup", json=body, headers=headers)

    page = ok(await lookup(PHONE, admin))
    assert [p["person_id"] for p in page["items"]] == [ids["王小明"]]
    assert ok(await lookup(f" {PHONE} ", admin))["total"] == 1  # spaces around it
    before = {"as_of": "2026-01-01"}  # as of a day when nobody was registered yet
    body = {"county_id": d.county, "login_name": PHONE}
    past = await api.post("/v1/people/lookup", params=before, json=body, headers=admin)
    assert ok(past)["total"] == 0
    assert ok(await lookup(OTHER_PHONE, admin)) == {
        "items": [],
        "total": 0,
        "limit": 1,
        "offset": 0,
    }
    # another county's administrator asks about his own county: not this county's person
    elsewhere = county.servers.auth("county_admin", "c-elsewhere")
    assert ok(await lookup(PHONE, elsewhere, "c-elsewhere"))["total"] == 0
    # only who manages the county's accounts: not its auditor, not another county's admin
    for who in (county.servers.auth("auditor", d.county), elsewhere):
        refused = await lookup(PHONE, who)
        assert refused.status_code == 403
        assert "县管理员" in refused.json()["detail"]
    # not a phone or ID number: refused beside the field, the number never echoed back
    bad = await lookup("1380013800", admin)
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["login_name"]
    assert "1380013800" not in bad.text


async def test_the_accounts_page_finds_people_by_name_and_login_name(county: County) -> None:
    ids = await registered(county)
    admin, csrf = county.desk("county_admin", county.directory.county)
    page = shown(await admin.get("/accounts", params={"name": "王"}))
    assert "姓名含“王”的人员（2 人）" in page
    assert f"/accounts/{ids['王芳']}" in page
    assert f"/accounts/{ids['欧阳明']}" not in page
    assert 'id="find-name" name="name" value="王"' in page
    none = shown(await admin.get("/accounts", params={"name": "不存在"}))
    assert "没有找到姓名含“不存在”的人员" in none
    # a name the service refuses: its reason beside the search box, the list not shown
    bad = await admin.get("/accounts", params={"name": "王\x07"})
    assert bad.status_code == 422
    assert 'aria-describedby="err-find-name"' in bad.text
    assert 'id="err-find-name"' in bad.text
    assert 'id="name" name="name" value=""' in bad.text  # the registration form untouched

    # by login name: posted (the number is in no address), to the person's page
    to = await admin.post("/accounts/lookup", data=form(csrf, login_name=PHONE))
    assert to.status_code == 303
    assert to.headers["location"] == f"/accounts/{ids['王小明']}"
    missing = await admin.post("/accounts/lookup", data=form(csrf, login_name=OTHER_PHONE))
    assert missing.status_code == 404
    assert 'aria-describedby="err-lookup-login_name"' in missing.text
    assert "没有人使用这个登录名" in missing.text
    wrong = await admin.post("/accounts/lookup", data=form(csrf, login_name="12345"))
    assert wrong.status_code == 422
    assert 'id="err-lookup-login_name"' in wrong.text
    forged = await admin.post("/accounts/lookup", data={"login_name": PHONE})
    assert forged.status_code == 403  # no CSRF token: nothing asked
    # the auditor has no accounts page
    auditor, auditor_csrf = county.desk("auditor", county.directory.county)
    assert (await auditor.get("/accounts")).status_code == 403
    refused = await auditor.post("/accounts/lookup", data=form(auditor_csrf, login_name=PHONE))
    assert refused.status_code == 403


async def test_the_auditor_reads_channels_and_every_delivery_with_no_form(county: County) -> None:
    d = county.directory
    admin, _ = county.desk("county_admin", d.county)
    notification = county.services["notification"]
    admin_api = county.servers.auth("county_admin", d.county)

    async def deliveries() -> list[dict[str, Any]]:
        answer = await notification.client.get(
            "/v1/deliveries", params={"county_id": d.county}, headers=admin_api
        )
        return list(ok(answer)["deliveries"])

    # a county robot that cannot be reached, and a bulletin it is to carry: the delivery dies
    robot = {
        "county_id": d.county,
        "kind": "wecom",
        "name": "审计可见工作群",
        "target": "http://127.0.0.1:9/cgi-bin/webhook/send?key=audit-robot-key",
        "release_types": ["bulletin"],
    }
    ok(await notification.client.post("/v1/channels", json=robot, headers=admin_api), 201)
    before = len(await deliveries())
    bulletin = {"title": "审计期间督查通报"}
    path = f"/v1/townships/{d.township}/bulletins"
    ok(await notification.client.post(path, json=bulletin, headers=county.directory.office), 201)

    async def scheduled() -> bool:
        return len(await deliveries()) > before

    await eventually(scheduled)
    worker = notification.runtime.components["worker"]
    for wait in (0, 1, 2, 6, 31, 121, 241):
        notification.clock.advance(timedelta(minutes=wait))
        await worker.deliver_due()
    assert any(x["status"] == "dead" for x in await deliveries())

    auditor, auditor_csrf = county.desk("auditor", d.county)
    channels = shown(await auditor.get("/channels"))
    assert "审计可见工作群" in channels
    assert "audit-robot-key" not in channels
    assert "<form" not in channels.split("<main>", 1)[1]  # no form: no add, no retirement
    assert ">推送记录</a>" in channels  # the auditor's menu
    every = shown(await auditor.get("/deliveries"))
    assert "全部推送记录" in every
    assert "审计期间督查通报" in every
    assert "已停止重试" in every
    assert ">重新推送</button>" not in every
    reasons = re.findall(r'data-label="失败原因">([^<\n]+)', every)
    assert reasons
    assert all(re.search(r"[\u4e00-\u9fff]", r) for r in reasons)  # in Chinese
    dead = shown(await auditor.get("/deliveries", params={"status": "dead"}))
    assert "推送失败、已停止重试的消息" in dead
    assert dead.count('data-label="状态">已停止重试') == dead.count('data-label="渠道"') > 0
    # read only: the auditor's writes are refused before any service is asked
    for path in ("/channels", f"/deliveries/{(await deliveries())[0]['delivery_id']}/redelivery"):
        answer = await auditor.post(path, data=form(auditor_csrf, name="x"))
        assert answer.status_code == 403, path
    # the administrator's page is as before: the dead ones, each with its button
    admin_dead = shown(await admin.get("/deliveries"))
    assert admin_dead.count(">重新推送</button>") == dead.count('data-label="渠道"')
    # two days before, as the auditor may look back: no delivery yet
    before = (notification.clock.now() - timedelta(days=2)).date().isoformat()
    chosen = await auditor.post("/as-of", data=form(auditor_csrf, as_of=before, back="/"))
    assert chosen.status_code == 303
    past = shown(await auditor.get("/deliveries"))
    assert "正在查看" in past
    assert "审计期间督查通报" not in past
    assert "没有推送记录" in past
    # an auditor of another county reads none of this county's
    stranger = county.servers.auth("auditor", "c-elsewhere")
    for path in ("/v1/channels", "/v1/deliveries"):
        answer = await notification.client.get(
            path, params={"county_id": d.county}, headers=stranger
        )
        assert answer.status_code == 403, path
