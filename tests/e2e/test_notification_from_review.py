"""The public board fed by the real review service over NATS (the other notification tests
publish review events through stand-ins): a review and its correction, as recorded over
the review service's HTTP API, reach the branch page; a member's journal presented at the
branch's meeting counts once in the supervision bulletin (N4), however many entries."""

from __future__ import annotations

from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.clock import FixedClock
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.review_helpers import START, correction_body, entry_body, review_body, synced
from tests.support import Servers, running


async def test_a_real_review_and_its_correction_reach_the_board(servers: Servers) -> None:
    async with running(servers, [PLEDGE, REVIEW, NOTIFICATION], FixedClock(START)) as s:
        pledge, review, board = s["pledge"], s["review"], s["notification"].client
        d = await Directory(pledge.client, servers).build()
        await synced(pledge, review)
        recorded = ok(
            await review.client.post(
                "/v1/reviews",
                json=review_body("member", d.member, "2027-01-02"),
                headers=d.branch_secretary,
            ),
            201,
        )["id"]

        async def on_the_board(held_on: str) -> bool:
            page = await board.get(f"/branches/{d.branch}")
            return page.status_code == 200 and held_on in page.text

        await eventually(lambda: on_the_board("2027年1月2日"), timeout=20)
        ok(
            await review.client.post(
                f"/v1/reviews/{recorded}/correction",
                json=correction_body("member", "2027-01-04"),
                headers=d.branch_secretary,
            ),
            201,
        )
        await eventually(lambda: on_the_board("2027年1月4日"), timeout=20)
        page = (await board.get(f"/branches/{d.branch}")).text
        assert "2027年1月2日" not in page  # the superseded version is no longer shown
        assert "2027年第一季度" in page


async def test_the_bulletin_counts_members_whose_journal_was_presented(servers: Servers) -> None:
    async with running(servers, [PLEDGE, REVIEW, NOTIFICATION], FixedClock(START)) as s:
        pledge, review, notification = s["pledge"], s["review"], s["notification"]
        d = await Directory(pledge.client, servers).build()
        await synced(pledge, review)
        journal = f"/v1/members/{d.member}/journal/2027-01"
        for day in ("2027-01-02", "2027-01-03"):  # two entries, one member
            entry = entry_body(recorded_on=day)
            headers = d.the_member
            ok(await review.client.post(f"{journal}/entries", json=entry, headers=headers), 201)
        ok(
            await review.client.post(
                f"{journal}/presentation",
                json={"presented_on": "2027-01-04", "grade": "excellent", "evaluation": "记实具体"},
                headers=d.branch_secretary,
            )
        )

        async def presented() -> bool:  # the entries come first on the review service's log
            pool = notification.runtime.pool
            return bool(await pool.fetchval("SELECT count(*) FROM board_presentations"))

        await eventually(presented, timeout=20)
        issued = ok(
            await notification.client.post(
                f"/v1/townships/{d.township}/bulletins",
                json={"title": "专项督查通报", "note": "工作纪实"},
                headers=d.office,
            ),
            201,
        )
        listed = ok(await notification.client.get(f"/v1/townships/{d.township}/bulletins"))
        [bulletin] = [b for b in listed["bulletins"] if b["bulletin_id"] == issued["id"]]
        [line] = bulletin["branches"]
        assert line["journals_presented"] == 1
        # one of the branch's two members (its secretary and d.member) has presented
        assert [g for g in line["gaps"] if g.startswith("纪实")] == ["纪实未全覆盖(1/2)"]
