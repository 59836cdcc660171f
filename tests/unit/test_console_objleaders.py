"""Two gaps of the console closed (docs/services/console.md, "Not yet"), against the real
services: a township's committee and office object to the county's selection on notice from
the console (a reason required, refused beside its field with nothing appended; the same form
twice appends once; the objection the township's own, not one brought in person), and only
while the notice runs; and the responsible leader the office assigned to a branch is chased
on 待办 for the branch and its leadership team not reviewed in the quarter, from the review
service's events the notification service copies (an ended assignment no longer chased)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from services.console.pages.selections import pickers
from services.console.settings import ConsoleSettings
from services.notification.app import DEFINITION as NOTIFICATION
from services.notification.delivery.scheduler import remind
from services.notification.queries import unreviewed
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.clock import FixedClock
from tests.e2e.evaluation_helpers import directory_copied, pledge_and_evaluation
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.notification_helpers import notices_of
from tests.e2e.review_helpers import START, seated
from tests.support import Servers, running
from tests.unit.test_console_countypages import form, shown
from tests.unit.test_console_officepages import signed_in_as
from tests.unit.test_console_selectlevels import held_by, posted, render
from tests.unit.test_console_selectpages import session


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T02:00:00+00:00").astimezone(UTC)  # 10:00 in China


async def county_selection_on_notice(e: Any, d: Directory, clock: Any) -> str:
    """The township commends its member; the county selects from the townships' winners,
    the township's office nominating its own, and posts the notice; the county's selection."""
    office, committee = d.office, d.committee
    county = d.as_("county_admin", d.county)
    formula = {"weights": {"ratings": 1.0}, "when_missing": "zero", "quotas": [1]}
    opening = {"year": 2027, "title": "优秀共产党员", "subject_kind": "member", "notice_days": 5}

    async def through_notice(sid: str, organiser: dict[str, str], body: dict[str, str]) -> None:
        ok(await e.post(f"/v1/selections/{sid}/formula", json=formula, headers=organiser))
        reason = {"subject_id": d.member, "reason": "推广滴灌，带动十户节水增收"}
        ok(await e.post(f"/v1/selections/{sid}/nominations", json=reason, headers=office), 201)
        ok(await e.post(f"/v1/selections/{sid}/stages", headers=organiser), 201)
        decision = {"decisions": [{"subject_id": d.member, "advanced": True, "reason": "群众公认"}]}
        path = f"/v1/selections/{sid}/stages/1/decision"
        ok(await e.post(path, json=decision, headers=body))
        ok(await e.post(f"/v1/selections/{sid}/notice", headers=organiser))

    township = opening | {"level": "township", "township_id": d.township}
    sid = ok(await e.post("/v1/selections", json=township, headers=office), 201)["id"]
    await through_notice(sid, office, committee)
    clock.set(at("2027-06-28"))  # the township's notice over
    ok(await e.post(f"/v1/selections/{sid}/commendation", headers=committee))
    above = opening | {"level": "county", "county_id": d.county, "commendation_on": "2027-07-16"}
    cid = ok(await e.post("/v1/selections", json=above, headers=county), 201)["id"]
    await through_notice(cid, county, county)
    return str(cid)


async def test_a_township_objects_to_the_countys_selection(
    servers: Servers, tmp_path: Path
) -> None:
    async with pledge_and_evaluation(servers, at("2027-06-20")) as (pledge, evaluation, clock):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        e = evaluation.client
        cid = await county_selection_on_notice(e, d, clock)
        settings = ConsoleSettings(
            session_key_file=tmp_path / "console.key",
            identity_url="http://127.0.0.1:9",
            pledge_url=str(pledge.client.base_url),
            evaluation_url=str(evaluation.client.base_url),
            notification_url="http://127.0.0.1:9",
        )
        county = d.as_("county_admin", d.county)

        async def objections() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = ok(await e.get(f"/v1/selections/{cid}", headers=county))[
                "objections"
            ]
            return found

        office, csrf = signed_in_as(settings, servers, "township_office", d.township, "p-o", "王")
        page = shown(await office.get(f"/selections/{cid}"))
        assert "<h3>提出异议</h3>" in page
        assert "异议理由（必填）" in page
        assert "记录来访异议" not in page  # the county records those, not a township
        assert f'<option value="{d.member}">李秀英' in page

        # no reason: the service's refusal beside the field, nothing appended
        blank = await office.post(
            f"/selections/{cid}/objections", data=form(csrf, subject_id=d.member, summary=" ")
        )
        assert blank.status_code == 422, blank.text
        assert 'id="summary" name="summary" aria-invalid="true"' in blank.text
        assert 'id="err-summary"' in blank.text
        assert f'<option value="{d.member}" selected>' in blank.text  # as it was chosen
        assert await objections() == []

        twice = form(csrf, subject_id=d.member, summary="该同志节水项目账目尚未公开")
        for _ in range(2):  # a double click appends once
            sent = await office.post(f"/selections/{cid}/objections", data=twice)
            assert sent.status_code == 303, sent.text
        [filed] = await objections()
        assert (filed["summary"], filed["in_person"]) == ("该同志节水项目账目尚未公开", False)
        again = shown(await office.get(f"/selections/{cid}"))
        assert "该同志节水项目账目尚未公开" in again
        assert "（来访，县里记录）" not in again

        # the committee objects in the township's name too; the county answers both
        committee, ccsrf = signed_in_as(
            settings, servers, "township_committee", d.township, "p-c", "赵"
        )
        assert "<h3>提出异议</h3>" in shown(await committee.get(f"/selections/{cid}"))
        theirs = form(ccsrf, subject_id=d.member, summary="群众反映其带动户数不实")
        sent = await committee.post(f"/selections/{cid}/objections", data=theirs)
        assert sent.status_code == 303, sent.text
        assert len(await objections()) == 2
        admin, _ = signed_in_as(settings, servers, "county_admin", d.county, "p-a", "孙")
        answering = shown(await admin.get(f"/selections/{cid}"))
        assert answering.count("提交答复") == 2
        assert "<h3>提出异议</h3>" not in answering  # the organiser records, it does not object


def notice_page(role: str, selection: dict[str, Any], today: str) -> str:
    """The selection's page on notice as a township post (of t-1) sees it on `today`."""
    return render(
        "selection.html",
        role,
        me=session(role, "t-1"),
        s=selection,
        names={"b-1": "红沙梁村党支部"},
        **pickers(selection, []),
        waiting=None,
        can_score=False,
        sources={},
        bodies={},
        nominators={},
        refused=None,
        filled={},
        today=today,
    )


def test_the_objection_form_only_while_the_notice_runs() -> None:
    county = posted(held_by("county", "c-1", "c-1"))
    township = posted(held_by("township", "t-1", "t-1"))
    for role in ("township_office", "township_committee"):
        for today, offered in (("2027-07-01", True), ("2027-07-02", False)):
            html = notice_page(role, county, today)
            assert ("提出异议" in html) is offered, (role, today)
            assert "提交答复" not in html
        # its own township's selection: answered there, not objected to from this form
        assert "提出异议" not in notice_page(role, township, "2027-06-27")


async def test_a_responsible_leader_is_reminded_of_the_branches_not_reviewed(
    servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R1 with N3: the quarter's review of the branch and its leadership team is chased at
    the head (here the committee's inbox: the directory names none) and at each leader the
    office assigned to the branch, in the leader's own inbox; a leader whose assignment
    ended is not chased."""
    monkeypatch.setenv("GONGKAI_SCHEDULER_INTERVAL", "3600")  # the test runs the pass
    clock = FixedClock(START)
    async with running(servers, [PLEDGE, REVIEW, NOTIFICATION], clock) as services:
        d = await Directory(services["pledge"].client, servers).build()
        review, runtime = services["review"].client, services["notification"].runtime
        await seated(services["review"], servers, d.township, "lead-1", "lead-2")
        for leader, name in (("lead-1", "刘建国"), ("lead-2", "陈志强")):
            body = {"leader_id": leader, "leader_name": name}
            path = f"/v1/branches/{d.branch}/leaders"

            async def assigned(body: dict[str, str] = body, path: str = path) -> bool:
                answer = await review.post(path, json=body, headers=d.office)
                return answer.status_code == 201  # once the branch is in the review's copy

            await eventually(assigned)

        async def copied(*leaders: str) -> bool:
            kept = await runtime.pool.fetch("SELECT leader_id FROM branch_leaders ORDER BY 1")
            return [r["leader_id"] for r in kept] == list(leaders)

        # both assignments in the notification service's copy before one ends: waiting for
        # the end alone could pass while lead-2's assignment was still on its way
        await eventually(lambda: copied("lead-1", "lead-2"))
        ended = f"/v1/branches/{d.branch}/leaders/lead-2/unassignment"
        ok(await review.post(ended, headers=d.office))
        await eventually(lambda: copied("lead-1"))
        chased = await unreviewed(runtime.pool, d.township, "2027Q1")
        assert sorted(r for r in chased if r[0] == "lead-1") == [
            ("lead-1", "张建国"),  # the secretary, on the leadership team
            ("lead-1", "红沙梁村党支部"),
        ]
        assert not [r for r in chased if r[0] == "lead-2"]
        # a leader on the branch's own leadership team is not chased for their own review
        await runtime.pool.execute(
            "INSERT INTO branch_leaders VALUES ($1, $2, $3)", d.branch, d.secretary, d.township
        )
        also = await unreviewed(runtime.pool, d.township, "2027Q1")
        assert [r for r in also if r[0] == d.secretary and r[1] != "李秀英"] == [
            (d.secretary, "红沙梁村党支部")  # (李秀英: the secretary reviews the members)
        ]
        await runtime.pool.execute("DELETE FROM branch_leaders WHERE leader_id = $1", d.secretary)

        clock.set(at("2027-03-25"))  # a week before the quarter's end
        await remind(runtime, date(2027, 3, 25))
        deadline = "quarterly_review-2027Q1"
        assert await notices_of(runtime.pool, "lead-1", deadline) == [
            ("reminder", date(2027, 3, 25))
        ]
        assert await notices_of(runtime.pool, "lead-2", deadline) == []
        # on 待办: the leader's own reminder beside the committee's, counted in the badge
        settings = ConsoleSettings(
            session_key_file=tmp_path / "console.key",
            identity_url="http://127.0.0.1:9",
            notification_url=str(services["notification"].client.base_url),
        )
        committee = ("township_committee", d.township)
        leader, _ = signed_in_as(settings, servers, *committee, "lead-1", "刘建国")
        other, _ = signed_in_as(settings, servers, *committee, "p-c", "赵")
        mine, theirs = shown(await leader.get("/")), shown(await other.get("/"))
        reminder = "红沙梁村党支部、张建国: 请于2027年3月31日前完成"
        assert mine.count(reminder) == theirs.count(reminder) + 1
        unread = int(mine.split("（未读 ", 1)[1].split("）", 1)[0])
        assert unread == int(theirs.split("（未读 ", 1)[1].split("）", 1)[0]) + 1
        assert f'待办 <span class="badge">{unread}</span>' in mine
