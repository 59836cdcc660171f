"""Issue 19: a township's roster goes in from its template, against real PostgreSQL: the
template holds the roster as it stands; an upload is checked into a preview that appends
nothing; the confirm appends the directory's own events all at once; the same file again
appends nothing; a GB18030 CSV with a bad row appends nothing and says which row; another
township's office may not import."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.e2e.helpers import Directory, event_count, eventually, ok
from tests.support import RunningService, Servers, rebuilt_as_live

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_a_roster_goes_in_from_its_template(
    servers: Servers, pledge_service: RunningService
) -> None:
    c = pledge_service.client
    d = await Directory(c, servers).build()
    template = await c.get(f"/v1/townships/{d.township}/roster/template.xlsx", headers=d.office)
    assert template.status_code == 200, template.text
    book = load_workbook(io.BytesIO(template.content))
    assert book.sheetnames == ["填写说明", "支部", "党员"]
    members = book["党员"]
    rows = list(members.iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[1]) for r in rows} == {(d.secretary, "张建国"), (d.member, "李秀英")}
    # a new branch with a new member as its secretary; 李秀英 moves there
    book["支部"].append(["", "", "新村党支部", "村党支部", "新村", "赵敏"])
    for row in members.iter_rows(min_row=2):
        if row[1].value == "李秀英":
            row[2].value = "新村党支部"
    members.append(["", "赵敏", "新村党支部", "支部书记", "主持支部全面工作", "是"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()

    before = await event_count(pledge_service)
    url = f"/v1/townships/{d.township}/roster/imports?file_name=名册.xlsx"
    upload = ok(await c.post(url, content=data, headers={**d.office, "Content-Type": XLSX}), 201)
    assert upload["state"] == "ready", upload["errors"]
    assert upload["preview"]["summary"] == {
        "branches_new": 1,
        "branches_retired": 0,
        "members_new": 1,
        "members_moved": 1,
        "members_left": 0,
        "posts_changed": 0,
        "secretaries_changed": 1,
    }
    assert await event_count(pledge_service) == before  # a preview appends nothing
    again = ok(await c.post(url, content=data, headers={**d.office, "Content-Type": XLSX}), 201)
    assert again["import_id"] == upload["import_id"]

    confirm = f"/v1/imports/{upload['import_id']}/confirm"
    done = ok(await c.post(confirm, headers=d.office))
    assert (done["state"], done["appended"]) == ("committed", 4)
    assert await event_count(pledge_service) == before + 4
    branches = ok(await c.get(f"/v1/townships/{d.township}", headers=d.office))["branches"]
    new = next(b for b in branches if b["name"] == "新村党支部")
    branch = ok(await c.get(f"/v1/branches/{new['branch_id']}"))
    assert {m["name"] for m in branch["members"]} == {"李秀英", "赵敏"}
    assert (
        branch["secretary_id"]
        == next(m for m in branch["members"] if m["name"] == "赵敏")["member_id"]
    )
    # the relay publishes what the bulk path appended (it follows the township's head row)
    pool = pledge_service.runtime.pool

    async def published() -> bool:
        head = "SELECT sequence FROM partition_heads WHERE partition = $1"
        relayed = "SELECT sequence FROM relay_positions WHERE partition = $1"
        return bool(
            await pool.fetchval(head, d.township) == await pool.fetchval(relayed, d.township)
        )

    await eventually(published)
    # what the bulk path projected many at a time is what one by one makes (A2)
    await rebuilt_as_live(pool, pledge_service.runtime.definition.read_models)
    # confirmed again, or the same file uploaded again: nothing more
    assert ok(await c.post(confirm, headers=d.office))["appended"] == 4
    ok(await c.post(url, content=data, headers={**d.office, "Content-Type": XLSX}), 201)
    assert await event_count(pledge_service) == before + 4
    listed = ok(await c.get(f"/v1/townships/{d.township}/roster/imports", headers=d.office))
    assert [i["import_id"] for i in listed] == [upload["import_id"]]
    mine = ok(await c.get("/v1/imports", headers=d.office))
    assert [i["import_id"] for i in mine] == [upload["import_id"]]

    # a CSV of members as Chinese Excel saves it (GB18030), with one bad row: nothing
    csv = "党员编号,姓名,所在支部,岗位,职责,班子成员\r\n,王强,没有的支部,党员,参加组织生活,否\r\n"
    bad = ok(
        await c.post(
            f"/v1/townships/{d.township}/roster/imports?file_name=members.csv",
            content=csv.encode("gb18030"),
            headers={**d.office, "Content-Type": "text/csv"},
        ),
        201,
    )
    assert bad["state"] == "invalid"
    assert bad["errors"] == [
        {"sheet": "党员", "row": 2, "column": "所在支部", "reason": "“支部”表中没有这个支部"}
    ]
    refused = await c.post(f"/v1/imports/{bad['import_id']}/confirm", headers=d.office)
    assert refused.status_code == 409
    result = await c.get(f"/v1/imports/{bad['import_id']}/result.xlsx", headers=d.office)
    sheet = load_workbook(io.BytesIO(result.content))["党员"]
    assert sheet["H2"].value == "所在支部：“支部”表中没有这个支部"
    # a PDF is not a roster; another township's office is not this township's
    pdf = await c.post(url, content=b"%PDF-1.7", headers={**d.office, "Content-Type": XLSX})
    assert pdf.status_code == 422
    assert "PDF" in pdf.json()["detail"]
    other = d.as_("township_office", d.other_township)
    forbidden = await c.post(url, content=data, headers={**other, "Content-Type": XLSX})
    assert forbidden.status_code == 403
    anonymous = await c.post(url, content=data, headers={"Content-Type": XLSX})
    assert anonymous.status_code == 401
    assert (await c.post(confirm)).status_code == 401
    assert (await c.post(confirm, headers=other)).status_code == 403  # not the importer
    assert await event_count(pledge_service) == before + 4


async def test_a_large_roster_commits_in_the_background_with_its_progress(
    servers: Servers, pledge_service: RunningService
) -> None:
    c = pledge_service.client
    d = await Directory(c, servers).build()
    lines = ["党员编号,姓名,所在支部,岗位,职责,班子成员"]
    lines += [f",党员{i},红沙梁村党支部,党员,参加组织生活,否" for i in range(2100)]
    lines += ["", f"{d.secretary},张建国,红沙梁村党支部,支部书记,主持支部全面工作,是"]
    data = "\r\n".join(lines).encode("gb18030")
    url = f"/v1/townships/{d.township}/roster/imports?file_name=big.csv"
    headers = {**d.office, "Content-Type": "text/csv"}
    upload = ok(await c.post(url, content=data, headers=headers), 201)
    assert upload["preview"]["summary"]["members_new"] == 2100
    assert upload["preview"]["summary"]["members_left"] == 1  # 李秀英 is not in it
    assert len(upload["preview"]["changes"]) == 1000  # listed; the rest counted
    before = await event_count(pledge_service)
    started = await c.post(f"/v1/imports/{upload['import_id']}/confirm", headers=d.office)
    assert started.status_code == 202
    assert started.json()["state"] == "committing"

    async def committed() -> bool:
        state = ok(await c.get(f"/v1/imports/{upload['import_id']}", headers=d.office))
        assert state["state"] in ("committing", "committed")
        assert 0 <= state["rows_done"] <= state["rows_total"]
        return bool(state["state"] == "committed")

    await eventually(committed, timeout=60)
    assert await event_count(pledge_service) == before + 2101
