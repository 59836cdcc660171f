"""The public board fed by the real review service over NATS (the other notification tests
publish review events through stand-ins): a review and its correction, as recorded over
the review service's HTTP API, reach the branch page."""

from __future__ import annotations

from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.clock import FixedClock
from shared.testing import Servers, running
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.review_helpers import START, correction_body, review_body, synced


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

        await eventually(lambda: on_the_board("2027-01-02"), timeout=20)
        ok(
            await review.client.post(
                f"/v1/reviews/{recorded}/correction",
                json=correction_body("member", "2027-01-04"),
                headers=d.branch_secretary,
            ),
            201,
        )
        await eventually(lambda: on_the_board("2027-01-04"), timeout=20)
        page = (await board.get(f"/branches/{d.branch}")).text
        assert "2027-01-02" not in page  # the superseded version is no longer shown
        assert "2027Q1" in page
