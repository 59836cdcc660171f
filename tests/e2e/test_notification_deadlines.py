"""N3, P6, E4: reminders and overdue notices follow the other services' own rules and dates.
Drafting is finished when the pledge service's drafting report says so (the pledge was
approved), so a pledge returned for revision is still chased; the drafting deadline is the
pledge service's and the evaluation rounds' closing dates are the evaluation service's (the
real services here), and the reminders follow them even after a calendar was set here."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.evaluation.app import DEFINITION as EVALUATION
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from tests.e2e.helpers import Directory, eventually, item, ok
from tests.e2e.notification_helpers import (
    CRITERIA,
    directory_on_board,
    morning,
    notices_of,
    pledge_and_notification,
)
from tests.support import RunningService, Servers, running

# the test drives the scheduler itself (the background passes run once at start-up)
pytestmark = pytest.mark.usefixtures("manual_passes")


async def propose(
    pledge: RunningService, who: dict[str, str], body: dict[str, Any]
) -> tuple[str, list[str]]:
    c = pledge.client
    pledge_id: str = ok(await c.post("/v1/pledges", json={"year": 2027, **body}, headers=who), 201)[
        "id"
    ]
    proposal = {"basis": "年度目标责任书", "items": [item("改造支渠3公里")]}
    proposed = ok(await c.post(f"/v1/pledges/{pledge_id}/proposal", json=proposal, headers=who))
    return pledge_id, proposed["item_ids"]


async def status_in_notification(notification: RunningService, pledge_id: str) -> str | None:
    status: str | None = await notification.runtime.pool.fetchval(
        "SELECT status FROM board_pledges WHERE pledge_id = $1", pledge_id
    )
    return status


async def test_a_pledge_returned_for_revision_before_the_deadline_is_overdue_after_it(
    servers: Servers,
) -> None:
    async with pledge_and_notification(servers, morning(date(2027, 3, 1))) as (pledge, n):
        d = await Directory(pledge.client, servers).build()
        c, worker, pool = pledge.client, n.runtime.components["worker"], n.runtime.pool
        # before March 15 the branch proposes and the township returns its pledge for
        # revision (P5); the member proposes and is not reviewed yet
        branch_pledge, [returned] = await propose(
            pledge, d.branch_secretary, {"branch_id": d.branch}
        )
        review = {**CRITERIA, "feasible": False, "decision": "return", "guidance": "目标要量化"}
        ok(
            await c.post(
                f"/v1/pledges/{branch_pledge}/items/{returned}/review",
                json=review,
                headers=d.committee,
            )
        )
        member_pledge, _ = await propose(
            pledge, d.the_member, {"branch_id": d.branch, "member_id": d.member}
        )

        async def arrived() -> bool:
            return (
                await status_in_notification(n, branch_pledge) == "returned"
                and await status_in_notification(n, member_pledge) == "proposed"
            )

        await eventually(arrived)
        office = f"township_office:{d.township}"
        for day in (date(2027, 3, 10), date(2027, 3, 16)):
            n.clock.set(morning(day))
            await worker.tick()
        # reminded before March 15, overdue after it: the returned branch pledge (its
        # secretary, who has no personal pledge either), the member's pledge under review
        reminded_and_overdue = [("reminder", date(2027, 3, 10)), ("overdue", date(2027, 3, 16))]
        assert await notices_of(pool, d.secretary, "drafting-2027") == reminded_and_overdue
        assert await notices_of(pool, d.member, "drafting-2027") == reminded_and_overdue
        assert await notices_of(pool, office, "drafting-2027") == [("overdue", date(2027, 3, 16))]
        body = await pool.fetchval(
            "SELECT body FROM notices WHERE recipient = $1 AND kind = 'overdue'"
            " AND deadline_id = 'drafting-2027'",
            d.secretary,
        )
        assert body.startswith("红沙梁村党支部、张建国: ")  # one notice names both
        # the same as the pledge service's own drafting report (P6)
        report = ok(
            await c.get(f"/v1/townships/{d.township}/drafting-report?year=2027", headers=d.office)
        )
        assert report["overdue"]
        assert report["finished"] == 0
        assert {(r["pledger_kind"], r["status"]) for r in report["not_finished"]} == {
            ("branch", "returned"),
            ("member", "under_review"),
            ("member", "none"),
        }

        # revised and approved: the notification service's copy follows each step
        revision = {"note": "已量化", "items": {returned: item("改造支渠3公里")}}
        ok(
            await c.post(
                f"/v1/pledges/{branch_pledge}/resubmission",
                json=revision,
                headers=d.branch_secretary,
            )
        )
        await eventually(lambda: _status_is(n, branch_pledge, "proposed"))
        ok(
            await c.post(
                f"/v1/pledges/{branch_pledge}/items/{returned}/review",
                json={**CRITERIA, "decision": "approve"},
                headers=d.committee,
            )
        )
        await eventually(lambda: _status_is(n, branch_pledge, "approved"))


async def _status_is(notification: RunningService, pledge_id: str, status: str) -> bool:
    return await status_in_notification(notification, pledge_id) == status


async def test_reminders_follow_the_pledge_and_evaluation_services_calendars(
    servers: Servers,
) -> None:
    clock = FixedClock(morning(date(2027, 3, 1)))
    async with running(servers, [PLEDGE, EVALUATION, NOTIFICATION], clock) as services:
        pledge, evaluation, n = services["pledge"], services["evaluation"], services["notification"]
        d = await Directory(pledge.client, servers).build()
        board, pool = n.client, n.runtime.pool
        admin = d.as_("county_admin", d.county)
        calendar_url = f"/v1/counties/{d.county}/calendars/2027"

        async def county_arrived() -> bool:
            return (await board.get(calendar_url)).status_code == 200 and bool(
                await pool.fetchval("SELECT 1 FROM board_counties WHERE county_id = $1", d.county)
            )

        await eventually(county_arrived)
        # the county sets its calendar here first (the defaults: drafting by March 15, the
        # rounds by July 10 and January 5) ...
        ok(await board.post(calendar_url, json={}, headers=admin))
        # ... then moves the drafting deadline where it is kept, in the pledge service, and
        # the rounds' closing dates in the evaluation service
        ok(
            await pledge.client.post(
                f"/v1/counties/{d.county}/calendars",
                json={"year": 2027, "drafting_deadline": "2027-03-22"},
                headers=admin,
            )
        )
        ok(
            await evaluation.client.post(
                f"/v1/counties/{d.county}/evaluation-calendars",
                json={
                    "year": 2027,
                    "first_round_closes": "2027-06-20",
                    "second_round_closes": "2027-12-28",
                },
                headers=admin,
            )
        )

        async def due() -> dict[str, str]:
            found = ok(await board.get(calendar_url))["deadlines"]
            return {x["deadline_id"]: x["due_on"] for x in found}

        async def followed() -> bool:
            dates = await due()
            return (
                dates["drafting-2027"],
                dates["evaluation_round-2027H1"],
                dates["evaluation_round-2027H2"],
            ) == ("2027-03-22", "2027-06-20", "2027-12-28")

        await eventually(followed, timeout=20)
        assert (await due())["selection-2027"] == "2027-07-01"

        # a calendar set here cannot move them again: there is one copy of each date
        deadlines = ok(await board.get(calendar_url))["deadlines"]
        body = [{k: v for k, v in x.items() if k != "deadline_id"} for x in deadlines]
        at = next(i for i, x in enumerate(deadlines) if x["deadline_id"].endswith("H1"))
        body[at]["due_on"] = "2027-07-10"
        refused = await board.post(calendar_url, json={"deadlines": body}, headers=admin)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == f"deadlines.{at}.due_on"
        assert "全县的评议日历" in refused.json()["detail"]
        body[at]["due_on"] = "2027-06-20"
        body[at]["remind_days_before"] = 12  # how early to remind is this service's
        ok(await board.post(calendar_url, json={"deadlines": body}, headers=admin))

        worker = n.runtime.components["worker"]
        for day in (
            date(2027, 3, 15),
            date(2027, 3, 23),
            date(2027, 6, 8),
            date(2027, 6, 21),
            date(2027, 12, 18),
            date(2027, 12, 29),
        ):
            clock.set(morning(day))
            await worker.tick()
        office = f"township_office:{d.township}"
        assert await notices_of(pool, d.member, "drafting-2027") == [
            ("reminder", date(2027, 3, 15)),
            ("overdue", date(2027, 3, 23)),
        ]
        assert await notices_of(pool, office, "evaluation_round-2027H1") == [
            ("reminder", date(2027, 6, 8)),
            ("overdue", date(2027, 6, 21)),
        ]
        assert await notices_of(pool, office, "evaluation_round-2027H2") == [
            ("reminder", date(2027, 12, 18)),
            ("overdue", date(2027, 12, 29)),
        ]


async def test_a_township_is_not_chased_for_what_fell_due_before_it_was_established(
    servers: Servers,
) -> None:
    """A county that starts on January 4 owes nothing of last year's calendar (December's
    ratings, the second half's round), nor a bulletin for December; January's is its first."""
    async with pledge_and_notification(servers) as (pledge, n):
        d = await Directory(pledge.client, servers).build()
        await directory_on_board(n, d)
        worker, pool = n.runtime.components["worker"], n.runtime.pool
        for day in (date(2027, 1, 4), date(2027, 1, 6), date(2027, 1, 11), date(2027, 2, 1)):
            n.clock.set(morning(day))
            await worker.tick()
        last_year = await pool.fetch(
            "SELECT recipient, deadline_id FROM notices WHERE deadline_id LIKE '%2026%'"
        )
        assert [dict(r) for r in last_year] == []
        periods = await pool.fetch(
            "SELECT period FROM bulletins WHERE township_id = $1 AND regular", d.township
        )
        assert [r["period"] for r in periods] == ["2027-01"]
