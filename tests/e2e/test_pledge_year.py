"""A whole pledge year over HTTP against the running pledge service, with the evaluation
service's verdicts arriving over NATS (P1–P11)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from openpyxl import load_workbook

from services.pledge.app import DEFINITION
from tests.e2e.conftest import RunningService
from tests.e2e.helpers import Directory, EvaluationStandIn, eventually, item, ok
from tests.support import Servers, rebuilt_as_live


async def test_a_pledge_year(servers: Servers, pledge_service: RunningService) -> None:
    c = pledge_service.client
    d = await Directory(c, servers).build()

    # 定诺 step 1: opinions gathered before proposing (P3)
    pledge = ok(
        await c.post(
            "/v1/pledges", json={"year": 2027, "branch_id": d.branch}, headers=d.branch_secretary
        ),
        201,
    )["id"]
    opinion = ok(
        await c.post(
            f"/v1/pledges/{pledge}/opinions",
            json={
                "channel": "symposium",
                "gathered_on": "2027-01-03",
                "summary": "群众希望改造支渠, 推广滴灌",
            },
            headers=d.branch_secretary,
        ),
        201,
    )["opinion_id"]

    # step 2: proposal with reference to the implementation plan (P4)
    items = ok(
        await c.post(
            f"/v1/pledges/{pledge}/proposal",
            json={
                "basis": "《开展创先争优活动实施方案》及年度目标责任书",
                "items": [item("改造支渠3公里", shaped_by=(opinion,)), item("推广滴灌500亩")],
            },
            headers=d.branch_secretary,
        )
    )["item_ids"]
    canal, drip = items

    # step 3: the township committee reviews item by item; one returned, resubmitted (P5)
    criteria = {"shows_advanced_standard": True, "matches_wishes": True, "feasible": True}
    ok(
        await c.post(
            f"/v1/pledges/{pledge}/items/{canal}/review",
            json={**criteria, "decision": "approve"},
            headers=d.committee,
        )
    )
    returned = ok(
        await c.post(
            f"/v1/pledges/{pledge}/items/{drip}/review",
            json={
                **criteria,
                "feasible": False,
                "decision": "return",
                "guidance": "目标过大, 请结合水权指标修改",
            },
            headers=d.committee,
        )
    )
    assert returned["status"] == "returned"
    ok(
        await c.post(
            f"/v1/pledges/{pledge}/resubmission",
            json={"note": "按指导修改为300亩", "items": {drip: item("推广滴灌300亩")}},
            headers=d.branch_secretary,
        )
    )
    approved = ok(
        await c.post(
            f"/v1/pledges/{pledge}/items/{drip}/review",
            json={**criteria, "decision": "approve"},
            headers=d.committee,
        )
    )
    assert approved["status"] == "approved"

    # the member's own pledge, published by the branch secretary (P1, P7)
    personal = ok(
        await c.post(
            "/v1/pledges",
            json={"year": 2027, "branch_id": d.branch, "member_id": d.member},
            headers=d.the_member,
        ),
        201,
    )["id"]
    [lead] = ok(
        await c.post(
            f"/v1/pledges/{personal}/proposal",
            json={"basis": "节水灌溉示范岗", "items": [item("带动10户发展节水农业")]},
            headers=d.the_member,
        )
    )["item_ids"]
    ok(
        await c.post(
            f"/v1/pledges/{personal}/items/{lead}/review",
            json={**criteria, "decision": "approve"},
            headers=d.committee,
        )
    )

    # before publication the public sees nothing of either pledge
    assert (await c.get(f"/v1/pledges/{pledge}")).status_code == 404
    for p in (pledge, personal):
        ok(await c.post(f"/v1/pledges/{p}/publication", headers=d.branch_secretary))
    public = ok(await c.get(f"/v1/pledges/{pledge}"))
    assert public["status"] == "published"
    assert public["letter_no"]
    assert [r["decision"] for r in public["reviews"]] == ["approved", "returned", "approved"]
    letter = await c.get(f"/v1/pledges/{pledge}/letter")
    assert letter.status_code == 200
    assert "承诺卡" in letter.text
    assert "改造支渠3公里" in letter.text
    assert "围绕「五个好」" in letter.text
    personal_letter = (await c.get(f"/v1/pledges/{personal}/letter")).text
    assert "围绕「五带头」" in personal_letter
    assert re.search(r"日期: 20\d\d年\d{1,2}月\d{1,2}日", personal_letter)

    # before March 15 (P6): the secretary has not drafted a personal pledge yet
    report = ok(
        await c.get(f"/v1/townships/{d.township}/drafting-report?year=2027", headers=d.office)
    )
    assert [(p["member_id"], p["status"]) for p in report["not_finished"]] == [
        (d.secretary, "none")
    ]
    assert report["finished"] == 2
    assert not report["overdue"]
    pledge_service.clock.set(datetime(2027, 3, 16, 1, 0, tzinfo=UTC))
    report = ok(
        await c.get(f"/v1/townships/{d.township}/drafting-report?year=2027", headers=d.office)
    )
    assert report["overdue"]
    assert len(report["not_finished"]) == 1
    assert report["not_finished"][0]["late"]
    # approved after the deadline (P6): finished, and marked late for good; approved and not
    # yet published, it is chased for publication (P7, by March 31 by default)
    as_member = d.as_("member", d.branch, d.secretary)
    late = ok(
        await c.post(
            "/v1/pledges",
            json={"year": 2027, "branch_id": d.branch, "member_id": d.secretary},
            headers=as_member,
        ),
        201,
    )["id"]
    [late_item] = ok(
        await c.post(
            f"/v1/pledges/{late}/proposal",
            json={"basis": "书记带头", "items": [item("带头修缮村级活动场所")]},
            headers=as_member,
        )
    )["item_ids"]
    ok(
        await c.post(
            f"/v1/pledges/{late}/items/{late_item}/review",
            json={**criteria, "decision": "approve"},
            headers=d.committee,
        )
    )
    report = ok(
        await c.get(f"/v1/townships/{d.township}/drafting-report?year=2027", headers=d.office)
    )
    assert (report["not_finished"], report["finished"]) == ([], 3)
    assert [(p["member_id"], p["late"]) for p in report["finished_late"]] == [(d.secretary, True)]
    assert [p["member_id"] for p in report["not_published"]] == [d.secretary]
    assert (report["publication_deadline"], report["publication_overdue"]) == ("2027-03-31", False)

    # 践诺: progress, follow-up, quarterly push (P8, P9, P11)
    ok(
        await c.post(
            f"/v1/pledges/{pledge}/items/{canal}/progress",
            json={
                "summary": "已完成1.5公里",
                "percent": 50,
                "evidence": [{"description": "施工照片", "url": "https://example.org/p/1.jpg"}],
            },
            headers=d.branch_secretary,
        ),
        201,
    )
    ok(
        await c.post(
            f"/v1/pledges/{pledge}/items/{canal}/follow-ups",
            json={"note": "督查: 进度正常"},
            headers=d.office,
        ),
        201,
    )
    # what was reported and followed up is on the item's record, with who and when (P9),
    # and the item still says which gathered opinion shaped it (P3)
    shown = ok(await c.get(f"/v1/pledges/{pledge}", headers=d.office))
    on_canal = [a for a in shown["activity"] if a["item_id"] == canal]
    assert [(a["kind"], a["summary"]) for a in on_canal] == [
        ("progress", "已完成1.5公里"),
        ("follow_up", "督查: 进度正常"),
    ]
    assert on_canal[0]["detail"]["evidence"] == [
        {"description": "施工照片", "url": "https://example.org/p/1.jpg"}
    ]
    assert next(i for i in shown["items"] if i["item_id"] == canal)["progress_percent"] == 50
    assert next(i for i in shown["items"] if i["item_id"] == canal)["shaped_by"] == [opinion]
    push = {"quarter": "2027Q1", "assessment": "进展良好", "next_steps": "加快施工"}
    ok(await c.post(f"/v1/pledges/{pledge}/quarterly-pushes", json=push, headers=d.office), 201)
    pushes = ok(
        await c.get(f"/v1/townships/{d.township}/quarterly-pushes?quarter=2027Q1", headers=d.office)
    )
    assert pushes["pushed"] == [pledge]
    assert pushes["not_pushed"] == [personal]

    # P10: both items done, solved and verified; the public decides
    for item_id in (canal, drip):
        ok(
            await c.post(
                f"/v1/pledges/{pledge}/items/{item_id}/done",
                json={"summary": "已完成"},
                headers=d.branch_secretary,
            )
        )
        ok(
            await c.post(
                f"/v1/pledges/{pledge}/items/{item_id}/problem-solved",
                json={"note": "问题已解决"},
                headers=d.office,
            )
        )
        ok(
            await c.post(
                f"/v1/pledges/{pledge}/items/{item_id}/implementation-verified",
                json={"note": "实地核查到位"},
                headers=d.office,
            )
        )
    evaluation = EvaluationStandIn(servers.nats.url, pledge_service.subjects)
    await evaluation.verdict(
        pledge_id=pledge, item_id=canal, township_id=d.township, satisfied=18, ballots=20
    )
    await evaluation.verdict(
        pledge_id=pledge, item_id=drip, township_id=d.township, satisfied=9, ballots=20
    )

    async def both_verdicts_in() -> bool:
        items = ok(await c.get(f"/v1/pledges/{pledge}"))["items"]
        return all(i["verdict"] for i in items)

    await eventually(both_verdicts_in)
    ledger = ok(await c.get(f"/v1/ledger?township_id={d.township}&year=2027"))
    by_id = {row["item_id"]: row for row in ledger["rows"]}
    assert by_id[canal]["status"] == "closed"
    assert by_id[canal]["open_reasons"] == []
    assert by_id[drip]["status"] == "open"
    assert by_id[drip]["open_reasons"] == ["public_not_satisfied"]
    assert by_id[lead]["status"] == "open"
    assert "not_reported_done" in by_id[lead]["open_reasons"]
    assert ok(await c.get("/v1/ledger?status=closed"))["total"] == 1

    # the ledger downloads as a workbook, one row per item, filtered like the JSON
    workbook = await c.get(f"/v1/ledger.xlsx?township_id={d.township}&status=open")
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    titles = [row[4] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert sorted(titles) == ["带动10户发展节水农业", "推广滴灌300亩"]
    # in Chinese: title, headers and cells (codes stay codes in the JSON ledger only)
    assert sheet["A1"].value == "公开承诺台账"
    assert [c.value for c in sheet[2]][:4] == ["乡镇", "党支部", "承诺人", "类型"]
    cells = {row[4]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert cells["推广滴灌300亩"][3] == "党组织"
    assert cells["带动10户发展节水农业"][3] == "党员"
    assert cells["推广滴灌300亩"][9] == "未销号"
    assert cells["推广滴灌300亩"][10] == "群众不满意"
    assert str(cells["推广滴灌300亩"][7]).endswith("日")

    # every event of the year reached the service's JetStream stream, once
    runtime = pledge_service.runtime
    count = await runtime.pool.fetchval("SELECT count(*) FROM events")
    stream = pledge_service.subjects.stream("pledge")

    async def all_published() -> bool:
        assert runtime.js is not None
        info = await runtime.js.stream_info(stream)
        return info.state.messages == count

    await eventually(all_published)

    # A2: the read models rebuilt from the log equal the live ones, row for row
    await rebuilt_as_live(runtime.pool, DEFINITION.read_models)
