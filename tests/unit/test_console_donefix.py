"""An item of a published pledge reported done in the console (issue 18, P10), the console (in
process, through ASGI) against the real pledge service: the member reports her own item done
with a photo, after a tick that it cannot be undone; an empty summary or no tick is refused
beside its field with nothing appended; a double submit reports once; the item then reads
已完成 with what follows (the township's confirmations, the satisfaction check). The branch
secretary reports a member's item on her behalf (recorded so, and said on the office's
follow-up page) and the branch's own; another member is offered no form and refused. The
reminder calendar's months: the next deadline's open, and a refused row's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.console.calls import Refused
from services.console.pages.setup import by_month
from tests.e2e.helpers import Directory, event_count, item, ok
from tests.e2e.review_helpers import publish_branch_pledge
from tests.support import RunningService, Servers
from tests.support.files import photo
from tests.unit.test_console_countypages import form, shown
from tests.unit.test_console_officepages import signed_in_as
from tests.unit.test_console_pledgefix import pledge_world, recorded

APPROVE = {"shows_advanced_standard": True, "matches_wishes": True, "feasible": True}


async def publish_member_pledge(pledge: RunningService, d: Directory) -> tuple[str, list[str]]:
    """The member's 2027 pledge with two items, approved and published; its id and items."""
    c = pledge.client
    body = {"year": 2027, "branch_id": d.branch, "member_id": d.member}
    pid = ok(await c.post("/v1/pledges", json=body, headers=d.the_member), 201)["id"]
    proposal = {"basis": "入户征求意见", "items": [item("推广滴灌"), item("清理支渠")]}
    items: list[str] = ok(
        await c.post(f"/v1/pledges/{pid}/proposal", json=proposal, headers=d.the_member)
    )["item_ids"]
    for item_id in items:
        review = {**APPROVE, "decision": "approve"}
        path = f"/v1/pledges/{pid}/items/{item_id}/review"
        ok(await c.post(path, json=review, headers=d.committee))
    ok(await c.post(f"/v1/pledges/{pid}/publication", headers=d.branch_secretary))
    return str(pid), items


async def test_the_member_reports_her_item_done_once(servers: Servers, tmp_path: Path) -> None:
    async with pledge_world(servers, tmp_path) as (pledge, settings, d):
        pid, (first, second) = await publish_member_pledge(pledge, d)
        member, csrf = signed_in_as(settings, servers, "member", d.branch, d.member, "李秀英")
        path = f"/pledges/{pid}"
        page = shown(await member.get(path))
        done = f'action="{path}/items/{first}/done"'
        assert done in page
        assert f'action="{path}/items/{second}/done"' in page
        assert "无法撤销" in page
        assert "代李秀英报告" not in page  # her own

        # an empty summary: refused beside it, the tick and the other item's form as they were
        before = await event_count(pledge)
        empty = await member.post(
            f"{path}/items/{first}/done", data=form(csrf, summary="", confirmed="yes")
        )
        assert empty.status_code == 422, empty.text
        html = empty.text
        assert f'id="err-done-{first}-summary"' in html
        assert f'aria-describedby="err-done-{first}-summary"' in html
        assert f'id="done-{first}-confirmed" name="confirmed" value="yes" checked' in html
        assert f'id="err-done-{second}-summary"' not in html
        assert f'id="err-{first}-summary"' not in html  # not the progress form's field
        assert await event_count(pledge) == before

        # no tick: refused beside the tick, what was typed kept, nothing appended
        summary = "滴灌带铺设完成，十户全部用上"
        unticked = await member.post(f"{path}/items/{first}/done", data=form(csrf, summary=summary))
        assert unticked.status_code == 422, unticked.text
        html = unticked.text
        assert f'<p class="field-error" id="err-done-{first}-confirmed">请勾选确认' in html
        assert f"{summary}</textarea>" in html
        assert '<details class="no-print done-form" open>' in html
        assert await event_count(pledge) == before

        # a program sent as the photo: the service's reason beside the files' field
        sent = form(csrf, summary=summary, confirmed="yes")
        program = {"photo": ("现场.exe", b"MZ\x90\x00" + b"\x00" * 64, "image/jpeg")}
        bad = await member.post(f"{path}/items/{first}/done", data=sent, files=program)
        assert bad.status_code == 422, bad.text
        assert f'<p class="field-error" id="err-done-{first}-files">' in bad.text
        assert await event_count(pledge) == before

        # ticked, with a photo, sent twice: reported once, the photo attached
        for _ in range(2):
            answer = await member.post(
                f"{path}/items/{first}/done",
                data=sent,
                files={"photo": ("现场.jpg", photo(), "image/jpeg")},
            )
            assert answer.status_code == 303, answer.text
        [reported] = await recorded(pledge, "ItemReportedDone")
        assert (reported["item_id"], reported["summary"]) == (first, summary)
        assert reported["entered_by"] is None
        [attached] = reported["files"]
        assert attached["name"] == "现场.jpg"
        served = await pledge.client.get(f"/v1/files/{attached['sha256']}")  # public now
        assert (served.status_code, served.content[:2]) == (200, b"\xff\xd8")

        # the item reads 已完成 with what follows; no second done form, the other item's kept
        page = shown(await member.get(path))
        state = page[page.index(f'id="done-state-{first}"') :]
        state = state[: state.index("</div>")]
        assert "<strong>已完成</strong>" in state
        assert summary in state
        assert "佐证材料 1 个：现场.jpg" in state
        assert "问题已解决：等待乡镇核实" in state
        assert "群众满意度测评：等待乡镇组织测评" in state
        assert f'action="{path}/items/{first}/done"' not in page
        assert f'action="{path}/items/{first}/progress"' not in page
        assert f'action="{path}/items/{second}/done"' in page
        # the service says why a second report waits (a form kept open in another tab)
        again = await member.post(
            f"{path}/items/{first}/done", data=form(csrf, summary="再报一次", confirmed="yes")
        )
        assert again.status_code == 409
        assert "正在等待满意度测评结果" in again.text
        assert len(await recorded(pledge, "ItemReportedDone")) == 1

        # the secretary as a member (her own post's hat) is another member: no form, refused
        other, o_csrf = signed_in_as(settings, servers, "member", d.branch, d.secretary, "张建国")
        page = shown(await other.get(path))
        assert "/done" not in page
        assert "报告此项已完成" not in page
        before = await event_count(pledge)
        refused = await other.post(
            f"{path}/items/{second}/done", data=form(o_csrf, summary=summary, confirmed="yes")
        )
        assert refused.status_code == 403, refused.text
        assert "只有承诺人本人（或支部书记代党员）可以报告事项完成" in refused.text
        assert await event_count(pledge) == before


async def test_the_secretary_reports_on_the_members_behalf(
    servers: Servers, tmp_path: Path
) -> None:
    async with pledge_world(servers, tmp_path) as (pledge, settings, d):
        pid, (first, _) = await publish_member_pledge(pledge, d)
        branch_pid = await publish_branch_pledge(pledge, d)
        secretary, csrf = signed_in_as(
            settings, servers, "branch_secretary", d.branch, d.secretary, "张建国"
        )
        path = f"/pledges/{pid}"
        page = shown(await secretary.get(path))
        assert "代李秀英报告：记录为支部书记代为报告。" in page
        # progress is the member's own to report: no progress form for the secretary
        assert f'action="{path}/items/{first}/progress"' not in page
        summary = "李秀英口述：滴灌推广完成"
        answer = await secretary.post(
            f"{path}/items/{first}/done", data=form(csrf, summary=summary, confirmed="yes")
        )
        assert answer.status_code == 303, answer.text
        [reported] = await recorded(pledge, "ItemReportedDone")
        assert (reported["entered_by"], reported["files"]) == (d.secretary, [])
        page = shown(await secretary.get(path))
        assert "报告，支部书记代为报告）：" + summary in page
        # the office's follow-up page of the item says so too, and offers its confirmations
        office, _ = signed_in_as(settings, servers, "township_office", d.township, "o", "赵")
        followed = shown(await office.get(f"/township/items/{pid}/{first}"))
        assert "（支部书记代为报告）" in followed
        assert f"/township/items/{pid}/{first}/problem-solved" in followed

        # the branch's own pledge: hers to report, not on anyone's behalf
        branch_item = ok(await pledge.client.get(f"/v1/pledges/{branch_pid}"))["items"][0]
        bpath = f"/pledges/{branch_pid}"
        page = shown(await secretary.get(bpath))
        assert "代红沙梁村党支部报告" not in page
        assert f'action="{bpath}/items/{branch_item["item_id"]}/progress"' in page
        answer = await secretary.post(
            f"{bpath}/items/{branch_item['item_id']}/done",
            data=form(csrf, summary="支渠改造完工", confirmed="yes"),
        )
        assert answer.status_code == 303, answer.text
        branch_done: dict[str, Any] = (await recorded(pledge, "ItemReportedDone"))[-1]
        assert (branch_done["pledge_id"], branch_done["entered_by"]) == (branch_pid, None)


def test_the_calendar_by_month_opens_the_next_and_a_refused_one() -> None:
    """A month at a time: each deadline keeps its place in the whole form; the month of the
    next deadline is open, and one holding a refused row; `every` opens them all."""
    deadlines = [
        {"due_on": "2020-03-15", "title": "拟定"},
        {"due_on": "2020-03-31", "title": "公开"},
        {"due_on": "2099-06-30", "title": "纪实"},
        {"due_on": "2099-07-10", "title": "评议"},
    ]
    months = by_month(deadlines, None)
    assert [(m["month"], m["open"], m["next"]) for m in months] == [
        ("2020-03", False, False),
        ("2099-06", True, True),
        ("2099-07", False, False),
    ]
    assert [n for n, _ in months[0]["rows"]] == [0, 1]
    assert [n for n, _ in months[2]["rows"]] == [3]
    refused = Refused(422, "日期不对", fields={"deadlines.1.due_on": "日期格式不对"})
    assert [m["open"] for m in by_month(deadlines, refused)] == [True, True, False]
    assert [m["open"] for m in by_month(deadlines, None, every=True)] == [True, True, True]
