"""A second user review of the pledge pages (issue 18), fixed: a member with no phone, whose
pledge the branch secretary enters on her behalf. The secretary records the opinions gathered
(recorded so; a bad channel or day refused beside its field), is asked to choose each item's
category, keeps the 代为录入 note after submitting, is told in her own 待办 when the pledge
comes back (and it is settled when she resubmits); the committee sees, on each item, the
earlier review's guidance and the revision note; publishing asks for a confirmation first,
with the form's one key. The console (over ASGI) against the real identity, pledge and
notification services; the notification's reaction over real NATS and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from services.console.calls import Refused
from services.console.pages.pledges import CHANNELS, this_year
from services.console.session import Session
from services.console.web import TEMPLATES
from tests.e2e.helpers import eventually, item, ok
from tests.e2e.notification_helpers import CRITERIA
from tests.unit.test_console_countypages import County, county, form, shown
from tests.unit.test_console_generalfix import unread

__all__ = ["county"]  # the module's world: identity, pledge and notification, and the console


async def recorded(county: County, kind: str) -> list[dict[str, Any]]:
    """The data of the pledge service's events of a kind, oldest first."""
    rows = await county.services["pledge"].runtime.pool.fetch(
        "SELECT body FROM events WHERE type = $1 ORDER BY position", kind
    )
    return [json.loads(bytes(r["body"]))["data"] for r in rows]


def item_fields(n: int, **values: str) -> dict[str, str]:
    return {f"items.{n}.{k}": v for k, v in values.items()}


async def test_a_members_pledge_entered_on_her_behalf_from_opinions_to_publication(
    county: County,
) -> None:
    d, pledges = county.directory, county.api("pledge")
    secretary, csrf = county.desk("branch_secretary", d.branch, d.secretary)
    started = await secretary.post("/branch/pledges", data=form(csrf, member_id=d.member))
    assert started.status_code == 303, started.text
    path = started.headers["location"]
    pledge_id = path.rsplit("/", 1)[1]
    assert pledge_id == f"p{this_year()}-{d.member}"

    # 1. the opinions she gathered, recorded by the secretary on her behalf
    page = shown(await secretary.get(path))
    assert f'action="{path}/opinions"' in page
    bad = await secretary.post(
        f"{path}/opinions",
        data=form(csrf, channel="phone_call", gathered_on="", summary="群众盼修渠"),
    )
    assert bad.status_code == 422, bad.text
    at_channel = bad.text[bad.text.index('id="channel"') : bad.text.index('for="gathered_on"')]
    assert 'aria-invalid="true"' in at_channel
    assert 'id="err-channel"' in at_channel
    assert 'id="err-gathered_on"' in bad.text
    assert "群众盼修渠</textarea>" in bad.text  # what was typed kept
    assert await recorded(county, "OpinionRecorded") == []
    opinion = form(csrf, channel="talk", gathered_on="2026-12-01", summary="群众盼修渠")
    sent = await secretary.post(f"{path}/opinions", data=opinion)
    assert sent.status_code == 303, sent.text
    [kept] = await recorded(county, "OpinionRecorded")
    assert kept["entered_by"] == d.secretary
    page = shown(await secretary.get(path))
    assert "谈话交流：群众盼修渠" in page
    assert "只有承诺人本人" not in page

    # 5. a category is chosen, not taken from the first of the list
    assert '<option value="">请选择</option>' in page
    first = {k: str(v) for k, v in item("带动十户推广滴灌").items() if k != "shaped_by"}
    unchosen = item_fields(0, **{**first, "category": ""})
    refused = await secretary.post(
        f"{path}/proposal", data=form(csrf, basis="入户征求意见", **unchosen)
    )
    assert refused.status_code == 422, refused.text
    at_category = refused.text[refused.text.index('id="items.0.category"') :]
    assert 'id="err-items-0-category">请填写或选择此项。' in at_category[:800]
    assert await recorded(county, "PledgeProposed") == []
    proposed = await secretary.post(
        f"{path}/proposal", data=form(csrf, basis="入户征求意见", **item_fields(0, **first))
    )
    assert proposed.status_code == 303, proposed.text
    # the note stays once submitted: it is a fact of the record
    page = shown(await secretary.get(path))
    assert "李秀英的纸质承诺由您代为录入" in page
    committee, c_csrf = county.desk("township_committee", d.township, "h-pledge2")
    assert "此承诺由支部书记按李秀英的纸质承诺代为录入" in shown(await committee.get(path))

    # 2. returned: the secretary who entered it is told in her own 待办, as the member is
    [item_id] = (await recorded(county, "PledgeProposed"))[0]["items"][0:1]
    item_id = item_id["item_id"]
    returned = {**CRITERIA, "feasible": False, "decision": "return", "guidance": "目标写明户数"}
    review = f"/v1/pledges/{pledge_id}/items/{item_id}/review"
    ok(await pledges.post(review, json=returned, headers=d.committee))
    prefix = f"returned-{pledge_id}-"

    async def told() -> bool:
        return bool(await unread(county, d.secretary, prefix))

    await eventually(told)
    [notice] = await unread(county, d.secretary, prefix)
    assert "李秀英的承诺（您代为录入）中“带动十户推广滴灌”被退回修改" in str(notice["body"])
    assert len(await unread(county, d.member, prefix)) == 1
    home = shown(await secretary.get("/"))
    assert "李秀英的承诺（您代为录入）" in home
    assert 'href="/branch">去修改承诺' in home

    # resubmitted with a note: her notice is settled too
    revised = {f"revised.{item_id}.{k}": v for k, v in {**first, "target": "带动十户"}.items()}
    again = await secretary.post(
        f"{path}/resubmission", data=form(csrf, note="已写明带动十户", **revised)
    )
    assert again.status_code == 303, again.text

    async def settled() -> bool:
        found = await unread(county, d.secretary, prefix)
        return all(n["read_at"] is not None for n in found)

    await eventually(settled)

    # 3. the committee sees, on the item, the earlier review's guidance and the revision note
    page = shown(await committee.get(path))
    earlier = page[page.index(f'id="earlier-{item_id}"') :]
    earlier = earlier[: earlier.index("</ol>")]
    guided = earlier.index("退回修改；指导意见：目标写明户数")
    assert guided < earlier.index("已写明带动十户")
    assert "第1次提交的审核" in earlier
    assert "修改说明（第2次提交" in earlier
    the_pledge = ok(await pledges.get(f"/v1/pledges/{pledge_id}", headers=d.committee))
    assert [(r["round"], r["note"], r["item_ids"]) for r in the_pledge["revisions"]] == [
        (2, "已写明带动十户", [item_id])
    ]
    assert the_pledge["entered_on_behalf"] is True
    decided = {
        f"reviews.{item_id}.{k}": "yes" for k in ("shows_advanced_standard", "matches_wishes")
    }
    decided |= {f"reviews.{item_id}.feasible": "yes", f"reviews.{item_id}.decision": "approve"}
    approved = await committee.post(f"{path}/reviews", data=form(c_csrf, **decided))
    assert approved.status_code == 303, approved.text
    page = shown(await secretary.get(path))  # the pledger sees the same history
    assert f'id="earlier-{item_id}"' in page
    assert "<div>审核：已审定</div>" in page

    # 4. publishing asks first, then publishes once with the form's key
    publish = form(csrf)
    confirm = await secretary.post(f"{path}/publication", data=publish)
    assert confirm.status_code == 200, confirm.text
    assert "公开后不能撤回或修改" in confirm.text
    assert "带动十户推广滴灌" in confirm.text
    assert f'name="key" value="{publish["key"]}"' in confirm.text
    assert f'<a href="{path}">返回，暂不公开</a>' in confirm.text
    assert await recorded(county, "PledgePublished") == []
    for _ in range(2):
        done = await secretary.post(f"{path}/publication", data={**publish, "confirmed": "yes"})
        assert done.status_code == 303, done.text
    assert len(await recorded(county, "PledgePublished")) == 1
    page = shown(await secretary.get(path))
    assert "已公开" in page
    assert "李秀英的纸质承诺由您代为录入" in page


def test_a_refusal_of_no_field_is_said_beside_the_opinion_form() -> None:
    """A refusal of the opinion that names no field (who may, the pledge's state) is said at
    the form's button, not only at the top of a long page; the other forms' fields are not
    marked."""
    me = Session("", None, 0.0, None, "m-1", "张建国", "branch_secretary", "b-1")
    pledge = {
        "pledge_id": "p2026-m-2",
        "year": 2026,
        "pledger_name": "李秀英",
        "member_id": "m-2",
        "status": "drafting",
        "basis": None,
        "items": [],
        "opinions": [],
        "entered_on_behalf": True,
    }
    refused = Refused(
        403, "只有承诺人本人（或支部书记按党员的纸质承诺代为录入）可以记录征求到的意见。"
    )
    html = TEMPLATES.get_template("pledge.html").render(
        me=me,
        menu=[],
        path="/",
        here="/",
        csrf="c",
        todo_count=0,
        new_key=lambda: "k",
        refused=refused,
        filled={"summary": "群众盼修渠"},
        pledge=pledge,
        earlier={},
        categories=["节水增收先锋"],
        rows=range(1),
        reviewer=False,
        pledger=True,
        secretary=True,
        channels=CHANNELS,
        sent="opinion",
    )
    form = html[html.index('action="/pledges/p2026-m-2/opinions"') :]
    form = form[: form.index("</form>")]
    assert f'<p class="field-error" id="err-opinion">{refused.message}</p>' in form
    assert 'aria-describedby="err-opinion">记录意见</button>' in form
    assert "群众盼修渠</textarea>" in form  # what was typed kept
    assert 'id="basis" name="basis">' in html  # the proposal's fields untouched
