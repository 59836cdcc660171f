"""A quarter of leadership reviews over HTTP, across the pledge and review services: the
directory and pledge events flow over NATS (nothing injected), coverage is reported before,
during and after, live and as of past moments (R1–R7, D2, A3)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from tests.e2e.helpers import Directory, ok
from tests.e2e.review_helpers import (
    correction_body,
    pledge_and_review,
    publish_branch_pledge,
    review_body,
    synced,
)
from tests.support import Servers
from tests.support.files import pdf, photo


async def test_a_quarter_of_reviews_journals_and_visits(servers: Servers) -> None:
    auditor = servers.auth("auditor", Directory.county)  # for reviews' history
    async with pledge_and_review(servers) as (pledge, review):
        d = await Directory(pledge.client, servers).build()
        c, clock = review.client, review.clock
        third = ok(
            await pledge.client.post(
                "/v1/members",
                json={"branch_id": d.branch, "name": "王德明", "post": "治沙岗", "duties": "压沙"},
                headers=d.office,
            ),
            201,
        )["id"]
        pledge_id = await publish_branch_pledge(pledge, d)
        await synced(pledge, review)

        coverage = f"/v1/townships/{d.township}/coverage"
        q1 = {"quarter": "2027Q1"}
        before = ok(await c.get(coverage, params=q1))
        assert before["branches"] == {"total": 1, "reviewed": 0}
        assert before["members"] == {"total": 3, "reviewed": 0}
        assert {s["subject_id"] for s in before["not_reviewed"]} == {
            d.branch,
            d.secretary,
            d.member,
            third,
        }

        # February: the township reviews the branch and its leadership team (the secretary);
        # the secretary reviews an ordinary member
        clock.set(datetime(2027, 2, 10, 2, 0, tzinfo=UTC))
        branch_review = ok(
            await c.post(
                "/v1/reviews",
                json=review_body("branch", d.branch, "2027-02-09", occasion="secretaries_meeting"),
                headers=d.committee,
            ),
            201,
        )
        assert branch_review["quarter"] == "2027Q1"
        ok(
            await c.post(
                "/v1/reviews",
                json=review_body("member", d.secretary, "2027-02-09"),
                headers=d.committee,
            ),
            201,
        )
        member_review = ok(
            await c.post(
                "/v1/reviews",
                json=review_body("member", d.member, "2027-02-10", occasion="members_meeting"),
                headers=d.branch_secretary,
            ),
            201,
        )["id"]
        mid_quarter = clock.now()
        during = ok(await c.get(coverage, params=q1))
        assert [s["subject_id"] for s in during["not_reviewed"]] == [third]
        assert not during["complete"]

        stored = ok(await c.get(f"/v1/reviews/{branch_review['id']}", headers=auditor))
        fulfilment = {a["dimension"]: a for a in stored["assessments"]}["pledge_fulfilment"]
        assert fulfilment["grade"] == "qualified"
        assert stored["pledge_status"] == {  # R3: the ledger as the copy showed it then
            "year": 2027,
            "pledge_id": pledge_id,
            "status": "published",
            "items_total": 2,
            "items_open": 2,
            "items_closed": 0,
        }
        assert stored["occasion"] == "secretaries_meeting"

        # March: the last member is reviewed ad hoc; a review is corrected
        clock.set(datetime(2027, 3, 10, 2, 0, tzinfo=UTC))
        ok(
            await c.post(
                "/v1/reviews",
                json=review_body("member", third, "2027-03-10", occasion="ad_hoc"),
                headers=d.branch_secretary,
            ),
            201,
        )
        corrected = ok(
            await c.post(
                f"/v1/reviews/{member_review}/correction",
                json=correction_body("member", "2027-02-11"),
                headers=d.branch_secretary,
            ),
            201,
        )
        after = ok(await c.get(coverage, params=q1))
        assert after["complete"]
        assert after["not_reviewed"] == []
        assert after["members"] == {"total": 3, "reviewed": 3}

        # time travel (A3): the coverage as it stood at past moments
        then = ok(await c.get(coverage, params={**q1, "as_of": mid_quarter.isoformat()}))
        assert [s["subject_id"] for s in then["not_reviewed"]] == [third]
        assert datetime.fromisoformat(then["as_of"]) == mid_quarter  # says which moment
        start = (datetime(2027, 1, 5, 0, 0, tzinfo=UTC)).isoformat()
        assert len(ok(await c.get(coverage, params={**q1, "as_of": start}))["not_reviewed"]) == 4
        gone = await c.get(
            coverage, params={**q1, "as_of": "2027-01-04"}
        )  # China midnight: no county
        assert gone.status_code == 404, gone.text
        assert ok(await c.get(coverage, params=q1)) == after  # the live state is untouched

        # the ledger: current versions, filters, paging, history, workbook (R4)
        ledger = ok(await c.get("/v1/reviews", params={"township_id": d.township}))
        assert ledger["total"] == 4
        assert corrected["version_id"] in {r["review_id"] for r in ledger["rows"]}
        history = ok(
            await c.get("/v1/reviews", params={"include_superseded": "true"}, headers=auditor)
        )
        assert history["total"] == 5
        members = ok(await c.get("/v1/reviews", params={"subject_kind": "member", "limit": 2}))
        assert (members["total"], len(members["rows"])) == (3, 2)
        rest = ok(
            await c.get("/v1/reviews", params={"subject_kind": "member", "limit": 2, "offset": 2})
        )
        assert len(rest["rows"]) == 1
        assert ok(await c.get("/v1/reviews", params={"occasion": "ad_hoc"}))["rows"][0][
            "cadence"
        ] == ("ad_hoc")
        assert ok(await c.get("/v1/reviews", params={"quarter": "2027Q2"}))["total"] == 0
        versions = ok(await c.get(f"/v1/reviews/{member_review}", headers=auditor))["versions"]
        # the public sees current versions only
        assert (await c.get(f"/v1/reviews/{member_review}")).status_code == 401
        public_history = await c.get("/v1/reviews", params={"include_superseded": "true"})
        assert public_history.status_code == 403
        history_download = {"include_superseded": "true", "township_id": d.township}
        assert (await c.get("/v1/reviews.xlsx", params=history_download)).status_code == 403
        assert [v["review_id"] for v in versions] == [member_review, corrected["version_id"]]
        assert versions[0]["superseded_by"] == corrected["version_id"]
        workbook = await c.get("/v1/reviews.xlsx", params={"township_id": d.township})
        assert workbook.status_code == 200
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        assert sheet is not None
        assert sheet.max_row == 2 + 4
        ad_hoc = {"township_id": d.township, "occasion": "ad_hoc"}  # the JSON ledger's filters
        ad_hoc_sheet = load_workbook(
            io.BytesIO((await c.get("/v1/reviews.xlsx", params=ad_hoc)).content)
        ).active
        assert ad_hoc_sheet is not None
        assert ad_hoc_sheet.max_row == 2 + 1

        # the work journal (R6) and a guidance visit (R7), with evidence files
        journal = f"/v1/members/{d.member}/journal/2027-03"
        scan = ok(
            await c.post("/v1/files", files={"file": ("记录.pdf", pdf())}, headers=d.the_member),
            201,
        )["sha256"]
        first = ok(
            await c.post(
                f"{journal}/entries",
                json={
                    "recorded_on": "2027-03-05",
                    "work_content": "入户推广滴灌",
                    "duty_performance": "带动三户",
                    "files": [{"sha256": scan, "name": "入户记录.pdf"}],
                },
                headers=d.the_member,
            ),
            201,
        )["id"]
        fixed = ok(
            await c.post(
                f"{journal}/entries/{first}/correction",
                json={
                    "recorded_on": "2027-03-05",
                    "work_content": "入户推广滴灌",
                    "duty_performance": "带动五户",
                    "reason": "户数记错",
                },
                headers=d.the_member,
            ),
            201,
        )["id"]
        ok(
            await c.post(
                f"{journal}/presentation",
                json={"presented_on": "2027-03-10", "grade": "excellent", "evaluation": "记实具体"},
                headers=d.branch_secretary,
            )
        )
        read = ok(await c.get(f"/v1/members/{d.member}/journal", headers=d.the_member))
        assert [e["entry_id"] for e in read["entries"]] == [first, fixed]
        assert [f["name"] for f in read["entries"][0]["files"]] == ["入户记录.pdf"]
        assert read["entries"][1]["files"] == []  # the correction attached none
        assert read["presentations"][0]["entry_ids"] == [fixed]
        stranger = await c.get(
            f"/v1/members/{d.member}/journal", headers=d.as_("member", d.branch, third)
        )
        assert stranger.status_code == 403
        # a journal's file is the journal's readers', not the public's nor another member's
        assert (await c.get(f"/v1/files/{scan}", headers=d.branch_secretary)).status_code == 200
        for outsider in ({}, d.as_("member", d.branch, third)):
            assert (await c.get(f"/v1/files/{scan}", headers=outsider)).status_code == 404
        photo_sha = ok(
            await c.post("/v1/files", files={"file": ("现场.jpg", photo())}, headers=d.committee),
            201,
        )["sha256"]
        ok(
            await c.post(
                "/v1/visits",
                json={
                    "branch_id": d.branch,
                    "cadre_name": "王镇长",
                    "visited_on": "2027-03-09",
                    "summary": "指导支部落实节水承诺",
                    "files": [{"sha256": photo_sha, "name": "座谈现场.jpg"}],
                },
                headers=d.committee,
            ),
            201,
        )
        assert (await c.get(f"/v1/files/{photo_sha}")).status_code == 200  # a visit is public
        visits = ok(await c.get("/v1/visits", params={"township_id": d.township}))
        assert visits["total"] == 1
        assert visits["rows"][0]["cadre_name"] == "王镇长"
        assert visits["rows"][0]["files"][0]["sha256"] == photo_sha

        # next quarter: nobody reviewed yet
        clock.advance(timedelta(days=30))
        q2 = ok(await c.get(f"/v1/townships/{d.township}/coverage?quarter=2027Q2"))
        assert len(q2["not_reviewed"]) == 4
