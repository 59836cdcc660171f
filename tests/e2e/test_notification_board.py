"""The public board (N1, N2, P7) and the releases feed (X2), built only from consumed events:
pledges published through the real pledge service, review and evaluation events published
exactly as those services will; the read models rebuild to the same rows."""

from __future__ import annotations

import re
from datetime import date

import httpx

from services.notification.app import DEFINITION
from services.notification.documents.board import qr_svg
from tests.e2e.helpers import Directory, EvaluationStandIn, eventually, item, ok
from tests.e2e.notification_helpers import (
    CommendationIssued,
    GuidanceVisitRecorded,
    RatingResultsPublished,
    ReviewCorrected,
    ReviewRecorded,
    RoundResultsPublished,
    ServiceStandIn,
    pass_checks,
    pledge_and_notification,
    publish_pledge,
)
from tests.support import Servers, rebuilt_as_live

SECRET_PHONE = "13912345678"
SECRET_ID_NUMBER = "620621198001011234"


async def page(client: httpx.AsyncClient, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_the_board_shows_published_data_only_and_rebuilds(servers: Servers) -> None:
    async with pledge_and_notification(servers) as (pledge, notification):
        d = await Directory(pledge.client, servers).build()
        board = notification.client
        branch_pledge, (canal, drip) = await publish_pledge(
            pledge, d, ["改造支渠3公里", "推广滴灌300亩"]
        )
        personal, _ = await publish_pledge(pledge, d, ["带动10户发展节水农业"], member=True)
        # a pledge still being drafted stays off the board
        draft = ok(
            await pledge.client.post(
                "/v1/pledges",
                json={"year": 2028, "branch_id": d.branch},
                headers=d.branch_secretary,
            ),
            201,
        )["id"]
        ok(
            await pledge.client.post(
                f"/v1/pledges/{draft}/proposal",
                json={"basis": "草稿", "items": [item("尚未公开的承诺")]},
                headers=d.branch_secretary,
            )
        )
        await pass_checks(pledge, d, branch_pledge, canal)
        verdicts = EvaluationStandIn(servers.nats.url, pledge.subjects)
        await verdicts.verdict(
            pledge_id=branch_pledge, item_id=canal, township_id=d.township, satisfied=19, ballots=20
        )

        review = ServiceStandIn("review", servers.nats.url, notification.subjects)
        evaluation = ServiceStandIn(
            "evaluation", servers.nats.url, notification.subjects, verdicts.store
        )
        await review.publish(
            "review-r1",
            d.township,
            ReviewRecorded(
                review_id="r1",
                township_id=d.township,
                branch_id=d.branch,
                subject_kind="branch",
                subject_id=d.branch,
                subject_name="红沙梁村党支部",
                reviewer_id="cadre-1",
                reviewer_name="刘书记",
                occasion="季度点评会",
                quarter="2027Q1",
                held_on=date(2027, 3, 28),
            ),
        )
        await review.publish(
            "review-r0",
            d.township,
            ReviewRecorded(
                review_id="r0",
                township_id=d.township,
                branch_id=d.branch,
                subject_kind="member",
                subject_id=d.member,
                subject_name="李秀英",
                reviewer_id="cadre-1",
                reviewer_name="错记的点评人",
                occasion="支部党员大会",
                quarter="2027Q1",
                held_on=date(2027, 3, 20),
            ),
        )
        await review.publish(
            "review-r0c",
            d.township,
            ReviewCorrected(
                review_id="r0c",
                corrects_review_id="r0",
                township_id=d.township,
                branch_id=d.branch,
                subject_kind="member",
                subject_id=d.member,
                subject_name="李秀英",
                reviewer_id="cadre-1",
                reviewer_name="张建国",
                occasion="支部党员大会",
                quarter="2027Q1",
                held_on=date(2027, 3, 20),
            ),
        )
        await review.publish(
            "visit-v1",
            d.township,
            GuidanceVisitRecorded(
                visit_id="v1",
                township_id=d.township,
                branch_id=d.branch,
                cadre_id="cadre-2",
                cadre_name="王镇长",
                visited_on=date(2027, 4, 2),
                summary="指导节水灌溉推广",
            ),
        )
        # the evaluation service publishes counts and rates only; a field it should never
        # send (raters with phone and ID numbers) must not reach the board (N1)
        results = [
            {
                "subject_kind": "branch",
                "subject_id": d.branch,
                "subject_name": "红沙梁村党支部",
                "branch_id": d.branch,
                "counts": {"满意": 18, "基本满意": 1, "不满意": 1},
                "satisfaction_rate": 0.95,
                "score": 95.0,
                "raters": [{"name": "某村民", "phone": SECRET_PHONE, "id_no": SECRET_ID_NUMBER}],
            },
            {
                "subject_kind": "member",
                "subject_id": d.member,
                "subject_name": "李秀英",
                "branch_id": d.branch,
                "counts": {"满意": 15, "不满意": 5},
                "satisfaction_rate": 0.75,
                "score": 80.0,
            },
        ]
        await evaluation.publish(
            "round-h1",
            d.township,
            RoundResultsPublished(
                round_id="h1",
                township_id=d.township,
                title="2027年上半年群众评议",
                published_on=date(2027, 7, 12),
                results=results,
            ),
        )
        await evaluation.publish(
            "rating-m1",
            d.township,
            RatingResultsPublished(
                rating_id="m1",
                township_id=d.township,
                branch_id=d.branch,
                period="2027-01",
                level="branch_rates_members",
                published_on=date(2027, 2, 3),
                results=[
                    {
                        "subject_kind": "member",
                        "subject_id": d.member,
                        "subject_name": "李秀英",
                        "grade": "五星",
                        "score": 96,
                    }
                ],
            ),
        )
        await evaluation.publish(
            "selection-s1",
            d.township,
            CommendationIssued(
                selection_id="s1",
                township_id=d.township,
                year=2027,
                title="2027年度先进基层党组织",
                issued_on=date(2027, 7, 1),
                awardees=[
                    {
                        "subject_kind": "branch",
                        "subject_id": d.branch,
                        "subject_name": "红沙梁村党支部",
                        "branch_id": d.branch,
                        "reason": "节水增收成效显著",  # the committee's decision (S2)
                        "nomination_reason": "带领群众发展节水农业",
                    }
                ],
            ),
        )

        async def everything_arrived() -> bool:
            text = (await board.get(f"/branches/{d.branch}")).text
            return all(
                s in text
                for s in (
                    "群众满意 (满意率 95%)",
                    "刘书记",
                    "王镇长",
                    "2027年上半年群众评议",
                    "五星",
                    "2027年度先进基层党组织",
                )
            )

        await eventually(everything_arrived)

        county = await page(board, f"/counties/{d.county}")
        assert "民勤县" in county
        assert "红沙梁镇" in county
        assert "苏武镇" in county
        township = await page(board, f"/townships/{d.township}")
        assert "红沙梁村党支部" in township
        assert "张建国" in township
        assert "95.0%" in township  # the round's satisfaction chart and table
        [chart] = re.findall(r'<svg class="chart".*?</svg>', township, re.S)
        assert 'width="190.0"' in chart  # the branch's bar: 95 % of 200
        assert 'width="150.0"' in chart  # the member's: 75 %
        assert "75.0%" in chart
        branch = await page(board, f"/branches/{d.branch}")
        for shown in (
            "改造支渠3公里",
            "推广滴灌300亩",
            "带动10户发展节水农业",
            "李秀英",
            "问题已解决: 支渠已通水",
            "群众满意 (满意率 95%)",
            "<svg",
            "承诺书编号",
            # the awardee's reasons as the committee and the branch wrote them (S2)
            "评定意见：节水增收成效显著；推荐理由：带领群众发展节水农业",
        ):
            assert shown in branch, shown
        assert branch.count('class="card"') == 2
        assert "张建国 点评 李秀英" in branch  # the correction replaces the review
        # what a person reads: dates, periods and open reasons in Chinese (shared/zh.py)
        for said in (
            "2027年3月28日 刘书记 点评",  # held_on, in the Chinese way
            "2027年第一季度",  # not 2027Q1
            "党员评星 2027年1月",  # not 2027-01
            "2027年7月12日公布",
            "2027年4月2日 王镇长 联系点指导",
            '<td data-label="未销号原因" class="open-reasons">未报告完成；问题未确认解决',
        ):
            assert said in branch, said
        # P7: whose pledge of the latest year is not public yet (the 2028 draft's year)
        assert "2028年尚未公开承诺：红沙梁村党支部（未完成定诺）" in branch
        for code in ("2027Q1", "2027-01", "not_reported_done", "2027-03-28"):
            assert code not in branch, code
        for hidden in (
            "错记的点评人",
            "尚未公开的承诺",
            SECRET_PHONE,
            SECRET_ID_NUMBER,
            "某村民",
            "cadre-1",
        ):
            assert hidden not in branch, hidden
            assert hidden not in township, hidden
        card = await page(board, f"/pledges/{branch_pledge}")
        assert "改造支渠3公里" in card
        assert "@page" in card
        # the printed card's QR code carries its own page's address
        base = str(board.base_url).rstrip("/")
        assert qr_svg(f"{base}/pledges/{branch_pledge}") in card
        assert (await board.get(f"/pledges/{draft}")).status_code == 404
        assert (await board.get("/branches/nope")).status_code == 404
        assert "民勤县" in await page(board, "/")

        # X2: every published item as an immutable release, paged by position
        first = ok(await board.get("/v1/releases?limit=3"))
        assert len(first["releases"]) == 3
        assert first["more"]
        rest = ok(await board.get(f"/v1/releases?since={first['next_since']}&limit=100"))
        releases = first["releases"] + rest["releases"]
        assert not rest["more"]
        types = sorted(r["type"] for r in releases)
        assert types == sorted(
            [
                "pledge_published",
                "pledge_published",
                "item_closed",
                "review",
                "review",  # the correction is a release of its own
                "review",
                "guidance_visit",
                "round_results",
                "rating_results",
                "commendation",
            ]
        )
        positions = [r["position"] for r in releases]
        assert positions == sorted(positions)
        assert len(set(positions)) == len(positions)
        published = next(r for r in releases if r["subject"] == "李秀英")
        assert published["content"]["items"][0]["title"] == "带动10户发展节水农业"
        assert SECRET_PHONE not in str(releases)
        again = ok(await board.get("/v1/releases?limit=100"))["releases"]
        assert again == releases  # immutable
        only = ok(await board.get("/v1/releases?type=item_closed"))["releases"]
        assert [r["content"]["item_id"] for r in only] == [canal]
        assert drip not in str(only)
        assert personal

        # A2: the board's read models, built from consumed events, rebuild row for row
        runtime = notification.runtime
        live = await rebuilt_as_live(runtime.pool, DEFINITION.read_models)
        assert int(live["releases"].split(":")[0]) == len(releases)
