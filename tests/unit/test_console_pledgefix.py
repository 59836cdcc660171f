"""The pledge pages as the user review found them (issue 18), the console (in process, through
ASGI) against the real pledge service: the branch secretary sees every member of the branch
and the branch itself with where each stands (未起草 too), starts the branch's pledge and a
member's on her behalf (recorded so) and proposes it; an empty proposal is refused at its
first item; the committee's reviews of several items sent at once, a refused one said beside
its item with every item's choices kept; a progress report out of range refused beside its
field with what was typed kept; the printed letter fits a phone, leads back, and is numbered
once."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from services.console.pages.pledges import this_year
from services.console.settings import ConsoleSettings
from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from tests.e2e.helpers import Directory, event_count, item, ok
from tests.e2e.review_helpers import START, publish_branch_pledge
from tests.support import RunningService, Servers, running
from tests.unit.test_console_countypages import form, shown
from tests.unit.test_console_officepages import signed_in_as


@asynccontextmanager
async def pledge_world(
    servers: Servers, tmp_path: Path
) -> AsyncIterator[tuple[RunningService, ConsoleSettings, Directory]]:
    """The real pledge service with the tests' directory, and the console's settings for it
    (no other service: the pages shown here ask only the pledge service)."""
    async with running(servers, [PLEDGE], FixedClock(START)) as services:
        pledge = services["pledge"]
        settings = ConsoleSettings(
            session_key_file=tmp_path / "console.key",
            identity_url="http://127.0.0.1:9",
            pledge_url=str(pledge.client.base_url),
            notification_url="http://127.0.0.1:9",
        )
        yield pledge, settings, await Directory(pledge.client, servers).build()


async def recorded(pledge: RunningService, kind: str) -> list[dict[str, Any]]:
    """The data of the events of a kind in the service's log, oldest first."""
    rows = await pledge.runtime.pool.fetch(
        "SELECT body FROM events WHERE type = $1 ORDER BY position", kind
    )
    return [json.loads(bytes(r["body"]))["data"] for r in rows]


def row_of(html: str, name: str) -> str:
    """The table row of the branch page naming `name`."""
    [row] = [r for r in re.findall(r"<tr>.*?</tr>", html, re.S) if f">{name}<" in r]
    return row


async def test_the_secretary_starts_and_proposes_on_her_members_behalf(
    servers: Servers, tmp_path: Path
) -> None:
    async with pledge_world(servers, tmp_path) as (pledge, settings, d):
        secretary, csrf = signed_in_as(
            settings, servers, "branch_secretary", d.branch, d.secretary, "张建国"
        )
        page = shown(await secretary.get("/branch"))
        assert "今年还没有人起草承诺" not in page
        assert '<p id="not-drafted">未起草 3 个（共 3 个）</p>' in page
        for name, kind in (("红沙梁村党支部", "支部"), ("张建国", "党员"), ("李秀英", "党员")):
            row = row_of(page, name)
            assert f'data-label="类型">{kind}<' in row
            assert 'data-label="状态">未起草<' in row
            assert 'action="/branch/pledges"' in row
        assert 'aria-label="代李秀英起草"' in row_of(page, "李秀英")
        assert ">起草支部承诺</button>" in row_of(page, "红沙梁村党支部")
        assert ">起草本人承诺</button>" in row_of(page, "张建国")  # the secretary's own

        # a member's pledge started on her behalf: a double submit drafts once, recorded so
        year = this_year()
        started = form(csrf, member_id=d.member)
        for _ in range(2):
            sent = await secretary.post("/branch/pledges", data=started)
            assert sent.status_code == 303, sent.text
            assert sent.headers["location"] == f"/pledges/p{year}-{d.member}"
        [drafted] = await recorded(pledge, "PledgeDrafted")
        assert (drafted["member_id"], drafted["entered_by"]) == (d.member, d.secretary)
        # the branch's own: the secretary's to write, not entered for anyone
        sent = await secretary.post("/branch/pledges", data=form(csrf, member_id=""))
        assert sent.headers["location"] == f"/pledges/p{year}-{d.branch}"
        branch_drafted = (await recorded(pledge, "PledgeDrafted"))[-1]
        assert (branch_drafted["member_id"], branch_drafted["entered_by"]) == (None, None)
        page = shown(await secretary.get("/branch"))
        assert '<p id="not-drafted">未起草 1 个（共 3 个）</p>' in page
        theirs = row_of(page, "李秀英")
        assert 'data-label="状态">起草中<' in theirs
        assert f'<a href="/pledges/p{year}-{d.member}">代为填写</a>' in theirs
        assert ">起草本人承诺</button>" in row_of(page, "张建国")  # her own not yet
        again = await secretary.post("/branch/pledges", data=form(csrf, member_id=d.member))
        assert again.status_code == 409  # already drafted: said on the page, nothing added
        assert "已经存在" in again.text
        assert 'id="pledgers"' in again.text

        # on the member's pledge: she proposes for her; an empty proposal refused at item 1
        path = f"/pledges/p{year}-{d.member}"
        page = shown(await secretary.get(path))
        assert 'id="on-behalf"' in page
        assert "李秀英的纸质承诺由您代为录入" in page
        before = await event_count(pledge)
        empty = await secretary.post(f"{path}/proposal", data=form(csrf, basis=""))
        assert empty.status_code == 422, empty.text
        assert empty.text.count("至少填写一项承诺事项") == 1
        first = empty.text.index("<legend>第1项</legend>")
        assert first < empty.text.index('id="err-items"') < empty.text.index("<legend>第2项")
        assert 'id="items.0.title" name="items.0.title" value="" aria-invalid="true"' in (
            empty.text
        )
        assert 'aria-describedby="err-basis"' in empty.text
        assert await event_count(pledge) == before
        filled = {
            f"items.0.{k}": str(v) for k, v in item("带动十户推广滴灌").items() if k != "shaped_by"
        }
        proposed = await secretary.post(
            f"{path}/proposal", data=form(csrf, basis="入户征求意见, 群众希望节水", **filled)
        )
        assert proposed.status_code == 303, proposed.text
        [proposal] = await recorded(pledge, "PledgeProposed")
        assert proposal["entered_by"] == d.secretary

        # not her post's page; another branch's member is not hers to start
        member, _ = signed_in_as(settings, servers, "member", d.branch, d.member, "李秀英")
        assert (await member.get("/branch")).status_code == 403
        assert (await member.post("/branch/pledges", data=form(csrf))).status_code == 403


async def test_refusals_beside_their_item_and_field_with_what_was_typed(
    servers: Servers, tmp_path: Path
) -> None:
    async with pledge_world(servers, tmp_path) as (pledge, settings, d):
        c = pledge.client
        body = {"year": 2027, "branch_id": d.branch, "member_id": d.member}
        pid = ok(await c.post("/v1/pledges", json=body, headers=d.the_member), 201)["id"]
        proposal = {"basis": "入户征求意见", "items": [item("推广滴灌"), item("清理支渠")]}
        one, two = ok(
            await c.post(f"/v1/pledges/{pid}/proposal", json=proposal, headers=d.the_member)
        )["item_ids"]
        head, csrf = signed_in_as(settings, servers, "township_committee", d.township, "h", "王")
        page = shown(await head.get(f"/pledges/{pid}"))
        assert page.count('<form id="reviews"') == 1  # every item's review, sent at once
        blank = {f"reviews.{i}.guidance": "" for i in (one, two)}
        nothing = await head.post(f"/pledges/{pid}/reviews", data=form(csrf, **blank))
        assert nothing.status_code == 422  # no item decided: said at the first, nothing sent
        assert f'id="err-reviews-{one}-decision">请选择“通过”或“退回修改”。' in nothing.text

        # one returned with no guidance, the other approved with a criterion unticked
        chosen = {
            f"reviews.{one}.decision": "return",
            f"reviews.{one}.shows_advanced_standard": "yes",
            f"reviews.{one}.guidance": "",
            f"reviews.{two}.decision": "approve",
            f"reviews.{two}.shows_advanced_standard": "yes",
            f"reviews.{two}.matches_wishes": "yes",
            f"reviews.{two}.guidance": "注意带动困难户",
        }
        before = await event_count(pledge)
        refused = await head.post(f"/pledges/{pid}/reviews", data=form(csrf, **chosen))
        assert refused.status_code == 422, refused.text
        html = refused.text
        assert "有 2 项审核意见未能提交" in html
        at_one = html[html.index(f'name="reviews.{one}.decision"') :]
        at_one = at_one[: at_one.index(f'name="reviews.{two}.decision"')]
        assert "退回的事项须写明修改意见" in at_one
        assert f'id="err-reviews-{one}-guidance"' in at_one
        assert f'aria-describedby="err-reviews-{one}-guidance"' in at_one
        assert f'id="err-reviews-{two}-decision"' in html
        assert (
            "三项标准都符合的事项才能通过" in html[html.index(f'name="reviews.{two}.decision"') :]
        )
        # every item's choices kept
        for name in (
            f"reviews.{one}.shows_advanced_standard",
            f"reviews.{two}.shows_advanced_standard",
            f"reviews.{two}.matches_wishes",
        ):
            assert f'name="{name}" value="yes" checked' in html
        assert f'name="reviews.{two}.feasible" value="yes">' in html  # unticked stays so
        assert f'name="reviews.{one}.decision" value="return" checked' in html
        assert f'name="reviews.{two}.decision" value="approve" checked' in html
        assert "注意带动困难户</textarea>" in html
        assert await event_count(pledge) == before  # nothing appended

        # put right and sent twice: each item reviewed once, the pledge returned
        chosen[f"reviews.{one}.guidance"] = "目标写明亩数"
        chosen[f"reviews.{two}.feasible"] = "yes"
        again = form(csrf, **chosen)
        for _ in range(2):
            sent = await head.post(f"/pledges/{pid}/reviews", data=again)
            assert sent.status_code == 303, sent.text
        assert len(await recorded(pledge, "ItemReviewed")) == 2
        assert ok(await c.get(f"/v1/pledges/{pid}", headers=d.committee))["status"] == "returned"

        # a progress report of 150%: the reason beside the field, what was typed kept
        branch_pid = await publish_branch_pledge(pledge, d)
        secretary, s_csrf = signed_in_as(
            settings, servers, "branch_secretary", d.branch, d.secretary, "张建国"
        )
        path = f"/pledges/{branch_pid}"
        first, second = (
            i["item_id"] for i in ok(await c.get(f"/v1/pledges/{branch_pid}"))["items"]
        )
        page = shown(await secretary.get(path))
        assert (
            f'<input type="number" inputmode="numeric" min="0" max="100" step="1"'
            f' id="{first}-percent" name="percent" value="0">'
        ) in page
        before = await event_count(pledge)
        summary = "已完成滴灌带铺设120亩"
        report = form(s_csrf, summary=summary, percent="150")
        refused = await secretary.post(f"{path}/items/{first}/progress", data=report)
        assert refused.status_code == 422, refused.text
        html = refused.text
        assert f'id="err-{first}-percent"' in html
        assert "完成百分比须在 0 到 100 之间" in html[html.index(f'id="{first}-percent"') :]
        assert 'name="percent" value="150" aria-invalid="true"' in html
        assert f"{summary}</textarea>" in html
        assert f'id="err-{second}-percent"' not in html  # the other item's form as it was
        assert html.count(summary) == 1
        assert await event_count(pledge) == before

        # the letter: a phone's width, a way back not printed, numbered with the id once
        letter = await secretary.get(f"{path}/letter")
        assert letter.status_code == 200
        text = letter.text
        assert "<meta name='viewport' content='width=device-width, initial-scale=1'>" in text
        assert f'<p class="back"><a href="{path}">返回承诺</a></p>' in text
        assert "@media print { .back { display: none; } }" in text
        assert f"编号 {branch_pid}<" in text
        assert f"2027-{branch_pid}" not in text
        assert "<p>红沙梁村党支部 · 2027年" in text  # the branch's own pledge: named once
        assert "红沙梁村党支部（红沙梁村党支部）" not in text
