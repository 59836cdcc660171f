"""N3, P6: deadlines as data per county and year; reminders before each deadline and overdue
notices after it, each exactly once, driven by the injectable clock through a whole year;
the inbox per person (N5); the monthly supervision bulletin (N4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.notification_helpers import (
    ReviewRecorded,
    ServiceStandIn,
    directory_on_board,
    notices_of,
    pledge_and_notification,
    publish_pledge,
)
from tests.support import Servers

# the test drives the scheduler itself (the background passes run once at start-up)
pytestmark = pytest.mark.usefixtures("manual_passes")


def morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 09:00 in China


async def test_a_year_of_reminders_each_exactly_once(servers: Servers) -> None:
    start = date(2027, 1, 1)
    # the township is established in December, so last year's calendar is owed from then on
    established = morning(date(2026, 12, 15))
    async with pledge_and_notification(servers, established) as (pledge, notification):
        d = await Directory(pledge.client, servers).build()
        board, worker = notification.client, notification.runtime.components["worker"]
        admin = d.as_("county_admin", d.county)

        await directory_on_board(notification, d)
        # deadlines are data: the county sets its calendar (each deadline's title and how
        # early to remind), then moves the drafting deadline to March 20 where it is kept,
        # in the pledge service (P6): the reminders follow it
        calendar_url = f"/v1/counties/{d.county}/calendars/2027"
        calendar = ok(await board.get(calendar_url))["deadlines"]
        assert len(calendar) == 43
        body = {"deadlines": [{k: v for k, v in x.items() if k != "deadline_id"} for x in calendar]}
        ok(await board.post(calendar_url, json=body, headers=admin))
        ok(
            await pledge.client.post(
                f"/v1/counties/{d.county}/calendars",
                json={"year": 2027, "drafting_deadline": "2027-03-20"},
                headers=admin,
            )
        )

        async def drafting_moved() -> bool:
            found = ok(await board.get(calendar_url))["deadlines"]
            return {x["deadline_id"]: x["due_on"] for x in found}["drafting-2027"] == "2027-03-20"

        await eventually(drafting_moved)
        # publication follows it by default: sixteen days later (P7)
        moved = {
            x["deadline_id"]: x["due_on"] for x in ok(await board.get(calendar_url))["deadlines"]
        }
        assert moved["publication-2027"] == "2027-04-05"

        review = ServiceStandIn("review", servers.nats.url, notification.subjects)
        head = "head-hsl"

        async def reviewed_in(
            day: date, kind: str, subject_id: str, subject_name: str, reviewer: str
        ) -> None:
            review_id = f"{subject_id}-{day:%m%d}"
            await review.publish(
                f"review-{review_id}",
                d.township,
                ReviewRecorded(
                    review_id=review_id,
                    township_id=d.township,
                    branch_id=d.branch,
                    subject_kind=kind,
                    subject_id=subject_id,
                    subject_name=subject_name,
                    reviewer_id="r",
                    reviewer_name=reviewer,
                    occasion="季度点评会",
                    quarter=f"{day.year}Q{(day.month - 1) // 3 + 1}",
                    held_on=day,
                ),
            )

            async def arrived() -> bool:
                return bool(
                    await notification.runtime.pool.fetchval(
                        "SELECT 1 FROM board_reviews WHERE review_id = $1", review_id
                    )
                )

            await eventually(arrived)

        day = start
        while day <= date(2027, 12, 31):
            notification.clock.set(morning(day))
            if day == date(2027, 3, 16):  # the branch and the member draft in time; the
                # secretary's personal pledge is still missing on March 20
                branch_pledge, _ = await publish_pledge(pledge, d, ["改造支渠3公里"])
                await publish_pledge(pledge, d, ["带动10户节水"], member=True)

                async def drafted(pledge_id: str = branch_pledge) -> bool:
                    return (await board.get(f"/pledges/{pledge_id}")).status_code == 200

                await eventually(drafted)
            if day == date(2027, 6, 20):  # the second quarter's reviews are all held in
                # time (R1): the township's of the branch and of its secretary, the
                # secretary's of the member
                await reviewed_in(day, "branch", d.branch, "红沙梁村党支部", "刘书记")
                await reviewed_in(day, "member", d.secretary, "张建国", "刘书记")
                await reviewed_in(day, "member", d.member, "李秀英", "张建国")
            if day == date(2027, 8, 10):  # in the third quarter only the member is reviewed:
                # that is not a review of the branch
                await reviewed_in(day, "member", d.member, "李秀英", "张建国")
            if day == date(2027, 9, 1):  # the directory names the township's head
                ok(
                    await pledge.client.post(
                        f"/v1/townships/{d.township}/head",
                        json={"person_id": head, "name": "刘书记"},
                        headers=admin,
                    )
                )

                async def head_known() -> bool:
                    return bool(
                        await notification.runtime.pool.fetchval(
                            "SELECT 1 FROM dir_townships WHERE head_id = $1", head
                        )
                    )

                await eventually(head_known)
            await worker.tick()
            day += timedelta(days=1)
        assert await worker.tick() == 0  # a second pass on the same day issues nothing

        pool = notification.runtime.pool
        duplicates = await pool.fetch(
            "SELECT deadline_id, kind, recipient FROM notices GROUP BY 1, 2, 3 HAVING count(*) > 1"
        )
        assert duplicates == []

        async def notices(recipient: str, deadline: str) -> list[tuple[str, date]]:
            return await notices_of(pool, recipient, deadline)

        async def body_of(recipient: str, deadline: str) -> str:
            """Whom or what the reminder names (before its ": ")."""
            body: str = await pool.fetchval(
                "SELECT body FROM notices WHERE recipient = $1 AND deadline_id = $2"
                " AND kind = 'reminder'",
                recipient,
                deadline,
            )
            return body.split(": ", 1)[0]

        office = f"township_office:{d.township}"
        # P6: reminded a week before March 20; the secretary, still not drafted, is overdue
        assert await notices(d.member, "drafting-2027") == [("reminder", date(2027, 3, 13))]
        assert await notices(d.secretary, "drafting-2027") == [
            ("reminder", date(2027, 3, 13)),
            ("overdue", date(2027, 3, 21)),
        ]
        assert await notices(office, "drafting-2027") == [("overdue", date(2027, 3, 21))]
        # quarterly reviews go to the reviewers (R1): the branch and its leadership team (the
        # secretary) to the township's head (the committee's inbox until the directory names
        # a head), the other members to their branch's secretary
        committee = f"township_committee:{d.township}"
        q1 = [("reminder", date(2027, 3, 24)), ("overdue", date(2027, 4, 1))]
        assert await notices(committee, "quarterly_review-2027Q1") == q1  # nothing was held
        assert await notices(d.secretary, "quarterly_review-2027Q1") == q1
        assert await body_of(committee, "quarterly_review-2027Q1") == "红沙梁村党支部、张建国"
        assert await body_of(d.secretary, "quarterly_review-2027Q1") == "李秀英"
        for reviewer in (committee, d.secretary, head):  # Q2: all held before the reminder
            assert await notices(reviewer, "quarterly_review-2027Q2") == []
        # Q3: only the member was reviewed; the branch and its secretary are not, and the
        # directory now names the township's head
        assert await notices(head, "quarterly_review-2027Q3") == [
            ("reminder", date(2027, 9, 23)),
            ("overdue", date(2027, 10, 1)),
        ]
        assert await body_of(head, "quarterly_review-2027Q3") == "红沙梁村党支部、张建国"
        assert await notices(committee, "quarterly_review-2027Q3") == []
        assert await notices(d.secretary, "quarterly_review-2027Q3") == []
        assert await notices(head, "quarterly_review-2027Q4") == [("reminder", date(2027, 12, 24))]
        assert await notices(d.secretary, "quarterly_review-2027Q4") == [
            ("reminder", date(2027, 12, 24))
        ]
        head_inbox = ok(
            await board.get("/v1/inbox", headers=d.as_("township_committee", d.township, head))
        )
        assert {"quarterly_review-2027Q1", "quarterly_review-2027Q3"} <= {
            n["deadline_id"] for n in head_inbox["notices"]
        }
        # evaluation rounds, selection and the branch ratings go to the township office; the
        # members' evaluation round to their branch's secretary, who organises it (E2)
        evaluation_h1 = [("reminder", date(2027, 6, 30)), ("overdue", date(2027, 7, 11))]
        assert await notices(office, "evaluation_round-2027H1") == evaluation_h1
        assert await notices(d.secretary, "evaluation_round-2027H1") == evaluation_h1
        assert await body_of(d.secretary, "evaluation_round-2027H1") == "红沙梁村党支部"
        # R6: no journal was presented in March: the secretary is reminded of the month's
        # meeting five days before its end, then told it is overdue, naming the members
        assert await notices(d.secretary, "journal_meeting-2027-03") == [
            ("reminder", date(2027, 3, 26)),
            ("overdue", date(2027, 4, 1)),
        ]
        assert "李秀英" in await body_of(d.secretary, "journal_meeting-2027-03")
        assert await notices(office, "selection-2027") == [
            ("reminder", date(2027, 6, 21)),
            ("overdue", date(2027, 7, 2)),
        ]
        monthly = await pool.fetch(
            "SELECT DISTINCT deadline_id FROM notices WHERE recipient = $1"
            " AND deadline_id LIKE 'member_rating-%' AND kind = 'overdue' ORDER BY 1",
            d.secretary,
        )
        # monthly member ratings are due on the 5th of the next month: December 2026's on
        # January 5 (the previous year's calendar) to November's; December's is next year's
        assert [r["deadline_id"] for r in monthly] == ["member_rating-2026-12"] + [
            f"member_rating-2027-{m:02d}" for m in range(1, 12)
        ]

        # the inbox per person (N5): unread, read
        member = d.branch_secretary
        inbox = ok(await board.get("/v1/inbox", headers=member))
        assert inbox["unread"] > 10
        first = inbox["notices"][0]["notice_id"]
        assert "请" in inbox["notices"][0]["body"]
        ok(await board.post(f"/v1/inbox/{first}/read", headers=member))
        ok(await board.post(f"/v1/inbox/{first}/read", headers=member))  # once is enough
        inbox = ok(await board.get("/v1/inbox?unread=true", headers=member))
        assert inbox["unread"] == len(inbox["notices"])
        assert first not in [n["notice_id"] for n in inbox["notices"]]
        office_inbox = ok(await board.get("/v1/inbox", headers=d.office))
        assert office_inbox["unread"] > 5
        assert ok(await board.get("/v1/inbox", headers=d.the_member))["unread"] == 1

        # N4: one regular bulletin per township and month, shown on the township page
        bulletins = ok(await board.get(f"/v1/townships/{d.township}/bulletins"))["bulletins"]
        assert sorted(b["period"] for b in bulletins if b["regular"])[-1] == "2027-11"
        assert len([b for b in bulletins if b["regular"]]) == 12
        june = next(b for b in bulletins if b["period"] == "2027-06")
        [line] = june["branches"]
        assert line["reviews_held"] == 3  # of the branch, its secretary and its member
        assert line["secretary_name"] == "张建国"
        assert "无联系点指导" in line["gaps"]
        # as the seed lists it: the secretary's own work, the branch's activities, publicity
        assert line["secretary_work"][:2] == ["本人承诺未公开", "本人纪实未讲评"]
        assert "领导点评 3 次" in line["activities"]
        assert june["guidance"] == []  # no cadre visited in June
        township = (await board.get(f"/townships/{d.township}")).text
        assert "2027年6月督查通报" in township
        assert "书记张建国：本人承诺未公开" in township
