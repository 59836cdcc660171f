"""Who sees which selection, and who filed an objection (issue 18; issue 20 items 2-4), the
gaps of docs/services/console.md's "Not yet" closed, against the real pledge and evaluation
services (the console over ASGI): a branch secretary and a member read their county's
selection on notice and object to it (a reason required, refused beside it, nothing
appended), the objection naming the township filing it, shown with its name on the county
administrator's page and kept by a rebuild of the read models; the county administrator
lists and reads its townships' selections read only; another county's administrator and
branch secretary are refused both. Without servers: an objection filed before objections
named their township reads as it was."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from services.console.settings import ConsoleSettings
from services.evaluation.app import DEFINITION as EVALUATION
from services.evaluation.events import REGISTRY
from services.evaluation.selection.events import ObjectionFiled
from tests.e2e.evaluation_helpers import caught_up, directory_copied, pledge_and_evaluation
from tests.e2e.helpers import Directory, event_count, ok
from tests.support import Servers, rebuilt_as_live
from tests.unit.test_console_countypages import form, shown
from tests.unit.test_console_objleaders import at, county_selection_on_notice
from tests.unit.test_console_officepages import signed_in_as
from tests.unit.test_console_selectlevels import held_by, page, posted, render
from tests.unit.test_console_selectpages import session

REASON = "该同志节水项目的账目尚未向群众公开"
ELSEWHERE = "wuwei"  # another county


async def another_county(pledge: Any, d: Directory) -> str:
    """A county beside the test's, with a township and a branch; the branch."""
    admin = d.as_("county_admin", ELSEWHERE)
    body = {"county_id": ELSEWHERE, "name": "武威县"}
    ok(await pledge.post("/v1/counties", json=body, headers=admin), 201)
    path = f"/v1/counties/{ELSEWHERE}/townships"
    township = ok(await pledge.post(path, json={"name": "凉州镇"}, headers=admin), 201)["id"]
    branch = {"township_id": township, "name": "凉州村党支部", "kind": "village"}
    office = d.as_("township_office", township)
    return str(ok(await pledge.post("/v1/branches", json=branch, headers=office), 201)["id"])


def steps(html: str) -> list[str]:
    """The selection's steps a page offers (their forms' actions)."""
    return re.findall(r'<form method="post" action="(/selections[^"]*)"', html)


async def test_who_reads_which_selection_and_who_objected(servers: Servers, tmp_path: Path) -> None:
    async with pledge_and_evaluation(servers, at("2027-06-20")) as (pledge, evaluation, clock):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        e = evaluation.client
        cid = await county_selection_on_notice(e, d, clock)
        [town] = ok(await e.get("/v1/selections", params={"township_id": d.township}))["rows"]
        tid = town["selection_id"]
        elsewhere_branch = await another_county(pledge.client, d)
        settings = ConsoleSettings(
            session_key_file=tmp_path / "console.key",
            identity_url="http://127.0.0.1:9",
            pledge_url=str(pledge.client.base_url),
            evaluation_url=str(evaluation.client.base_url),
            notification_url="http://127.0.0.1:9",
        )

        # the service lists the selections held in the county's townships, not its own
        held = {"county_id": d.county, "level": "township"}
        listed = ok(await e.get("/v1/selections", params=held))
        assert [r["selection_id"] for r in listed["rows"]] == [tid]
        assert ok(await e.get("/v1/selections", params={"county_id": ELSEWHERE}))["total"] == 0

        # the branch secretary and a member read the county's selection and may object
        secretary, csrf = signed_in_as(
            settings, servers, "branch_secretary", d.branch, d.secretary, "张建国"
        )
        member, member_csrf = signed_in_as(
            settings, servers, "member", d.branch, d.member, "李秀英"
        )
        for person in (secretary, member):
            mine = shown(await person.get("/selections"))
            section = mine[mine.index('id="county-selections"') :]
            assert f'href="/selections/{cid}"' in section
            assert f'href="/selections/{tid}"' in mine  # the township's own, above
            on_notice = shown(await person.get(f"/selections/{cid}"))
            assert "<h3>提出异议</h3>" in on_notice
            assert steps(on_notice) == [f"/selections/{cid}/objections"]  # nothing else
        her_menu = shown(await member.get("/selections"))
        assert 'aria-current="page">评选表彰</a>' in her_menu

        before = await event_count(evaluation)
        blank = await secretary.post(
            f"/selections/{cid}/objections", data=form(csrf, subject_id=d.member, summary=" ")
        )
        assert blank.status_code == 422, blank.text
        assert 'id="summary" name="summary" aria-invalid="true"' in blank.text
        assert await event_count(evaluation) == before  # nothing appended
        filed = form(csrf, subject_id=d.member, summary=REASON)
        for _ in range(2):  # a double submit appends once
            sent = await secretary.post(f"/selections/{cid}/objections", data=filed)
            assert sent.status_code == 303, sent.text
        [objection] = ok(await e.get(f"/v1/selections/{cid}"))["objections"]
        assert (objection["township_id"], objection["township_name"]) == (d.township, "红沙梁镇")
        assert objection["in_person"] is False
        theirs = form(member_csrf, subject_id=d.member, summary="本人请求核实带动户数")
        sent = await member.post(f"/selections/{cid}/objections", data=theirs)
        assert sent.status_code == 303, sent.text
        both = ok(await e.get(f"/v1/selections/{cid}"))["objections"]
        assert [o["township_id"] for o in both] == [d.township, d.township]

        # the administrator sees which township objected, and reads its townships' selections
        admin, _ = signed_in_as(settings, servers, "county_admin", d.county, "p-a", "孙")
        answering = shown(await admin.get(f"/selections/{cid}"))
        assert f'{REASON} <span class="muted township">（红沙梁镇提出）</span>' in answering
        listing = shown(await admin.get("/selections"))
        below = listing[listing.index('id="township-selections"') :]
        assert "各乡镇评选（1）" in below
        assert f'href="/selections/{tid}"' in below
        assert f'href="/selections/{cid}"' not in below  # the county's own is listed above
        township_page = shown(await admin.get(f"/selections/{tid}"))
        assert "县里查阅：本评选由创先办组织、镇党委决定，此处只读。" in township_page
        assert "推荐理由：推广滴灌，带动十户节水增收" in township_page
        assert steps(township_page) == []  # read only: no step of the township's to take

        # another county's administrator and branch secretary are refused both
        other_admin, _ = signed_in_as(settings, servers, "county_admin", ELSEWHERE, "p-w", "周")
        other_secretary, _ = signed_in_as(
            settings, servers, "branch_secretary", elsewhere_branch, "m-w", "吴"
        )
        for stranger in (other_admin, other_secretary):
            for sid in (tid, cid):
                refused = await stranger.get(f"/selections/{sid}")
                assert refused.status_code == 403, (sid, refused.status_code)
                assert REASON not in refused.text
            theirs = shown(await stranger.get("/selections"))
            assert cid not in theirs
            assert tid not in theirs

        # the objection's township kept by a rebuild of the read models from the log
        await caught_up(pledge, evaluation)
        live = await rebuilt_as_live(evaluation.runtime.pool, EVALUATION.read_models)
        assert live["selection_objections"].startswith("2:")


def test_an_objection_filed_before_it_named_its_township_reads_as_it_was() -> None:
    old = {"selection_id": "s-1", "objection_id": "o-1", "subject_id": "m-1", "summary": "有意见"}
    read = REGISTRY.decode("ObjectionFiled", 1, old)
    assert isinstance(read, ObjectionFiled)
    assert (read.township_id, read.in_person) == (None, False)


def test_the_objection_says_which_township_filed_it_and_the_form_is_offered_while_on_notice() -> (
    None
):
    county = posted(held_by("county", "c-1", "c-1"))
    county["objections"] = [
        *county["objections"],
        {
            "objection_id": "o-2",
            "subject_id": "b-1",
            "summary": REASON,
            "answer": None,
            "upheld": None,
            "in_person": False,
            "township_id": "t-2",
            "township_name": "苏武镇",
        },
    ]
    html = page("county_admin", "c-1", county)
    assert "（苏武镇提出）" in html
    assert "（来访，县里记录）" in html  # the one brought in person, as it was
    for role, org in (("branch_secretary", "b-1"), ("member", "b-1")):
        on_notice = page(role, org, county)  # the page's day: the notice's last
        assert "<h3>提出异议</h3>" in on_notice, role
        assert "提交答复" not in on_notice
        assert "发布表彰决定" not in on_notice
    township = posted(held_by("township", "t-1", "t-1"))
    read_only = page("county_admin", "c-1", township)
    assert "此处只读" in read_only
    assert not steps(read_only)


def test_the_townships_selections_are_paged_on_the_administrators_page() -> None:
    row = {
        "selection_id": "s-2027-member-t-1",
        "level": "township",
        "title": "红沙梁镇优秀共产党员评选",
        "year": 2027,
        "subject_kind": "member",
        "stages_scored": 1,
        "posted_on": None,
        "issued_on": None,
    }
    shared = {"selections": {"total": 0, "rows": []}, "county_selections": [], "opens": None}
    shared |= {"page": 1, "pages": 1, "refused": None, "filled": {}}
    first = render(
        "selections.html",
        "county_admin",
        me=session("county_admin", "c-1"),
        township_selections={"total": 21, "rows": [row], "pages": 2},
        town_page=1,
        **shared,
    )
    assert "各乡镇评选（21）" in first
    assert 'href="/selections/s-2027-member-t-1"' in first
    assert 'href="?page=1&amp;town_page=2"' in first
    none = render(
        "selections.html",
        "township_office",
        me=session("township_office", "t-1"),
        township_selections={"total": 0, "rows": [], "pages": 1},
        town_page=1,
        **shared,
    )
    assert "各乡镇评选" not in none
