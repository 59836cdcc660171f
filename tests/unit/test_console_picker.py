"""Choosing a person from a long list (issue 18), through the console app (httpx's ASGI
transport) against the real pledge and review services: a branch of 60 members shows at most
20 of them in the secretary's select, with a search box; `/pick/members` answers a part of a
name with the select and its note ("未找到" when none), and the page itself does with
`?find_…=` (the search without JavaScript); the chosen person is appointed under the field's
usual name; another township's roll, a member and a malformed address are refused in Chinese.
The office finds a responsible leader of the township committee and a member served by a
satisfaction check in the township's roll, and the county administrator the new township head
among the county's people, the same way.
The browser story: tests/e2e/test_console_picker.py."""

from __future__ import annotations

import asyncio
import re

import httpx

from services.console.pages.picker import SHOWN
from tests.e2e.evaluation_helpers import check_of_a_finished_item
from tests.e2e.helpers import Directory, ok
from tests.unit.test_console_countypages import shown
from tests.unit.test_console_leaders import LEADER_NAME, Township, town  # noqa: F401 (a fixture)
from tests.unit.test_console_officepages import key, signed_in_as
from tests.unit.test_console_polish import County, county  # noqa: F401 (a fixture)

SURNAMES = "赵钱孙李周吴郑冯陈褚卫蒋沈韩杨"
GIVEN = ("明", "华", "强", "芳")
FOUND = "马秀珍"  # the one the clerk looks for, among 60 others


async def enrol_many(client: httpx.AsyncClient, d: Directory, branch: str) -> dict[str, str]:
    """Sixty members and 马秀珍 in `branch`, through the pledge service; their ids by name."""
    names = [s + g for s in SURNAMES for g in GIVEN] + [FOUND]

    async def enrol(name: str) -> tuple[str, str]:
        body = {"branch_id": branch, "name": name, "post": "党员", "duties": "参加组织生活"}
        return name, ok(await client.post("/v1/members", json=body, headers=d.office), 201)["id"]

    enrolled: list[tuple[str, str]] = []
    for start in range(0, len(names), 10):  # ten at a time
        enrolled += await asyncio.gather(*(enrol(n) for n in names[start : start + 10]))
    return dict(enrolled)


def options(html: str) -> list[str]:
    return re.findall(r'<option value="[^"]+"[^>]*>([^<]+)</option>', html)


async def test_a_clerk_finds_one_member_among_many_and_appoints_her(
    county: County,  # noqa: F811 (the fixture)
) -> None:
    d, pledge, servers = county.d, county.d.client, county.servers
    ids = await enrol_many(pledge, d, d.branch)
    office, csrf = county.office()
    page = await office.get(f"/directory/branches/{d.branch}")
    assert page.status_code == 200
    select = page.text.split('id="secretary-member_id"')[1].split("</select>")[0]
    # at most 20 members, and the current secretary (张建国) kept on the list
    assert SHOWN <= len(options(select)) <= SHOWN + 1
    assert "张建国" in options(select)
    assert "杨芳" not in options(select)  # further on: found by typing
    assert "只列出前" in page.text
    assert 'name="find_secretary-member_id" form="pick-find"' in page.text
    assert '<form id="pick-find" method="get" hidden>' in page.text
    assert '<script src="/static/picker.js" defer></script>' in page.text
    script = await office.get("/static/picker.js")
    assert script.status_code == 200
    assert "data-pick" in script.text

    # as she types: the select (its id and name kept) and its note, of those found
    address = re.search(r'data-pick="([^"]+)"', page.text)
    assert address is not None
    url = address.group(1).replace("&amp;", "&")
    found = await office.get(url + "&q=秀珍")
    assert found.status_code == 200
    assert '<select id="secretary-member_id" name="member_id">' in found.text
    assert options(found.text) == [FOUND]
    assert '<option value="">请选择</option>' in found.text
    several = await office.get(url + "&q=赵")
    assert options(several.text) == ["赵华", "赵强", "赵明", "赵芳"]
    none = await office.get(url + "&q=欧阳")
    assert options(none.text) == []
    assert "未找到姓名含“欧阳”的人员" in none.text

    # without JavaScript: the page itself with the search typed
    plain = await office.get(
        f"/directory/branches/{d.branch}", params={"find_secretary-member_id": "秀"}
    )
    select = plain.text.split('id="secretary-member_id"')[1].split("</select>")[0]
    assert options(select) == ["李秀英", FOUND, "张建国"]  # and the secretary now
    assert 'value="秀"' in plain.text

    # the chosen one is appointed under the field's usual name
    body = {"csrf": csrf, "key": key(), "member_id": ids[FOUND]}
    sent = await office.post(f"/directory/branches/{d.branch}/secretary", data=body)
    assert sent.status_code == 303
    branch = ok(await pledge.get(f"/v1/branches/{d.branch}"))
    assert branch["secretary_id"] == ids[FOUND]

    # a refused choice (a member who has left) is kept on the list, chosen, beside its reason
    left = ids["杨芳"]
    reason = {"reason": "迁出本村"}
    ok(await pledge.post(f"/v1/members/{left}/retirement", json=reason, headers=d.office))
    body = {"csrf": csrf, "key": key(), "member_id": left}
    again = await office.post(f"/directory/branches/{d.branch}/secretary", data=body)
    assert again.status_code in (409, 422), again.text
    assert f'<option value="{left}" selected>杨芳</option>' in again.text
    assert ok(await pledge.get(f"/v1/branches/{d.branch}"))["secretary_id"] == ids[FOUND]

    # only what the person may see: another township's roll, a member, a bad address
    other, _ = signed_in_as(
        county.settings, servers, "township_office", d.other_township, "o-2", "钱"
    )
    refused = await other.get(url + "&q=秀")
    assert refused.status_code == 403
    assert options(refused.text) == []
    assert "乡镇名册只供" in refused.text
    member, _ = signed_in_as(county.settings, servers, "member", d.branch, "m-1", "李")
    assert (await member.get(url + "&q=秀")).status_code == 403
    bad = await office.get("/pick/members", params={"township": "../x", "q": "秀"})
    assert bad.status_code == 400
    assert "查找条件不完整" in bad.text
    assert (await office.get("/pick/nobody", params={"q": "秀"})).status_code == 404


async def test_the_leader_and_the_township_head_are_found_by_name(
    town: Township,  # noqa: F811 (the fixture)
) -> None:
    d = town.d
    # the office's responsible leader: of the township committee, found as she types
    office, _ = town.as_("township_office", d.township)
    page = shown(await office.get("/leaders"))
    address = re.search(r'data-pick="(/pick/committee[^"]+)"', page)
    assert address is not None
    url = address.group(1).replace("&amp;", "&")
    assert options(shown(await office.get(url + "&q=建国"))) == [LEADER_NAME]
    assert "未找到姓名含“欧阳”的人员" in shown(await office.get(url + "&q=欧阳"))
    plain = shown(await office.get("/leaders", params={"find_assign-leader_id": "欧阳"}))
    assert LEADER_NAME not in plain.split('id="assign-leader_id"')[1].split("</select>")[0]
    leader, _ = town.as_("township_committee", d.township, town.leader)
    refused = await leader.get(url + "&q=建国")
    assert refused.status_code == 403
    assert "请切换到创先办身份" in refused.text

    # the county's new township head: of the people registered in the county, 20 at a time
    admin = town.servers.auth("county_admin", d.county)
    identity = town.api("identity")
    for n in range(SHOWN + 5):
        body = {"name": f"候选人{n:02d}", "county_id": d.county}
        ok(await identity.post("/v1/people", json=body, headers=admin), 201)
    administrator, _ = town.as_("county_admin", d.county)
    setup = shown(await administrator.get("/setup"))
    select = setup.split('id="person_id"')[1].split("</select>")[0]
    assert len(options(select)) == SHOWN
    assert '<option value="">新人员（填写下方姓名）</option>' in select
    address = re.search(r'data-pick="(/pick/people[^"]+)"', setup)
    assert address is not None
    url = address.group(1).replace("&amp;", "&")
    assert options(shown(await administrator.get(url + "&q=刘建"))) == [LEADER_NAME]
    assert sorted(options(shown(await administrator.get(url + "&q=候选人1")))) == [
        f"候选人{n}" for n in range(10, 20)
    ]
    plain = shown(
        await administrator.get("/setup", params={"find_person_id": "候选人2", "year": "2028"})
    )
    kept = '<form id="pick-find" method="get" hidden><input type="hidden" name="year" value="2028">'
    assert kept in plain  # the year shown is searched again
    select = plain.split('id="person_id"')[1].split("</select>")[0]
    assert sorted(options(select)) == [f"候选人{n}" for n in range(20, 25)]
    assert (await office.get(url + "&q=刘")).status_code == 403  # the county's people


async def test_the_office_registers_a_member_served_found_by_name(
    county: County,  # noqa: F811 (the fixture)
) -> None:
    d = county.d
    # the first story of this module appoints another secretary: 张建国 again, to publish
    again = {"member_id": d.secretary}
    secretary = f"/v1/branches/{d.branch}/secretary"
    ok(await d.client.post(secretary, json=again, headers=d.office))
    _, check_id = await check_of_a_finished_item(county.pledge, county.evaluation, d, "修水渠")
    office, csrf = county.office()
    page = shown(await office.get(f"/checks/{check_id}"))
    select = page.split('id="member_id"')[1].split("</select>")[0]
    assert '<option value="">不是党员</option>' in select
    assert "张建国（红沙梁村党支部）" in options(select)  # the roll's first, at most 20
    assert len(options(select)) <= SHOWN
    assert "党员编号" not in page  # no number to type
    address = re.search(r'data-pick="(/pick/members[^"]+)"', page)
    assert address is not None
    url = address.group(1).replace("&amp;", "&")
    assert options(shown(await office.get(url + "&q=秀英"))) == ["李秀英（红沙梁村党支部）"]
    plain = shown(await office.get(f"/checks/{check_id}", params={"find_member_id": "秀英"}))
    assert options(plain.split('id="member_id"')[1].split("</select>")[0]) == [
        "李秀英（红沙梁村党支部）"
    ]

    # a value that would climb out of the service's path (../imports): refused, not a 500
    climbing = {"csrf": csrf, "key": key(), "member_id": "../imports", "phone": "123"}
    assert (await office.post(f"/checks/{check_id}/raters", data=climbing)).status_code == 422
    body = {"csrf": csrf, "key": key(), "member_id": d.member, "phone": "123"}
    refused = await office.post(f"/checks/{check_id}/raters", data=body)
    assert refused.status_code == 422  # a bad phone: the chosen member stays chosen
    kept = refused.text.split('id="member_id"')[1].split("</select>")[0]
    assert f'<option value="{d.member}" selected>李秀英' in kept
    body = {"csrf": csrf, "key": key(), "member_id": d.member}
    sent = await office.post(f"/checks/{check_id}/raters", data=body)
    assert sent.status_code == 303, sent.text
    raters = ok(
        await county.evaluation.client.get(
            f"/v1/satisfaction-checks/{check_id}/raters", headers=d.office
        )
    )
    assert [r["member_id"] for r in raters["raters"]] == [d.member]
