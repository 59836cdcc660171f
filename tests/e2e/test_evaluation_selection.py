"""The annual selection (S1–S3) over HTTP: a declared, versioned formula; nominations from the
branch; two shortlisting stages scored from ratings, mass evaluation, pledges (pledge events)
and leadership reviews graded per dimension (the review service's own event class, published
here as that service would); every score recomputed from the records it names; public notice,
an objection answered, and the commendation around July 1."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from nats.js.api import Header

from services.evaluation.app import DEFINITION as EVALUATION
from services.review import events as r
from shared.eventstore import AppendRequest, CommandContext, InMemoryEventStore
from shared.messaging import connect, ensure_stream
from tests.e2e.evaluation_helpers import APPROVE, directory_copied, pledge_and_evaluation
from tests.e2e.helpers import Directory, event_count, eventually, item, ok
from tests.support import RunningService, Servers, rebuilt_as_live


def review(d: Directory, review_id: str, subject_id: str, grades: list[str]) -> r.ReviewRecorded:
    """A member's review in 2027Q1 as the review service records it (its real event class),
    one grade per dimension (R3)."""
    dimensions = r.DIMENSIONS[r.SubjectKind.MEMBER]
    return r.ReviewRecorded(
        review_id=review_id,
        township_id=d.township,
        branch_id=d.branch,
        subject_kind=r.SubjectKind.MEMBER,
        subject_id=subject_id,
        subject_name="党员",
        reviewer_id="head-1",
        reviewer_name="镇党委书记",
        occasion=r.Occasion.ORGANISATION_LIFE_MEETING,
        cadence=r.Cadence.QUARTERLY,
        quarter="2027Q1",
        held_on=date(2027, 2, 20),
        achievements="完成节水任务",
        shortcomings="宣传不足",
        direction="加强入户宣传",
        assessments=tuple(
            r.Assessment(dimension=dimension, grade=r.Grade(grade), comment="见会议记录")
            for dimension, grade in zip(dimensions, grades, strict=True)
        ),
        pledge_status=r.PledgeLedgerStatus(
            year=2027, pledge_id=None, status="none", items_total=0, items_open=0, items_closed=0
        ),
    )


async def publish_reviews(evaluation: RunningService, *reviews: r.ReviewRecorded) -> None:
    """Published on the review stream as that service would: one log, so the township's
    sequence numbers follow on."""
    store = InMemoryEventStore(source="/gongkai/review")
    context = CommandContext(actor="service:review", role="integration")
    nc = await connect(evaluation.settings.nats_url, name="review-stand-in")
    try:
        js = nc.jetstream()
        await ensure_stream(js, "review", evaluation.subjects)
        for event in reviews:
            stream = f"review-{event.review_id}"
            request = AppendRequest(stream, event.township_id, 0, [event], context)
            [envelope] = await store.append(request)
            await js.publish(
                evaluation.subjects.of("review", envelope),
                envelope.data_bytes(),
                headers=envelope.headers() | {Header.MSG_ID: envelope.id},
            )
    finally:
        await nc.close()


async def member_pledge_published(pledge: RunningService, d: Directory) -> None:
    c = pledge.client
    body = {"year": 2027, "branch_id": d.branch, "member_id": d.member}
    pledge_id = ok(await c.post("/v1/pledges", json=body, headers=d.the_member), 201)["id"]
    proposal = {"basis": "节水灌溉示范岗", "items": [item("带动十户滴灌"), item("培训农户")]}
    item_ids = ok(
        await c.post(f"/v1/pledges/{pledge_id}/proposal", json=proposal, headers=d.the_member)
    )["item_ids"]
    for item_id in item_ids:
        review = f"/v1/pledges/{pledge_id}/items/{item_id}/review"
        ok(await c.post(review, json=APPROVE, headers=d.committee))
    ok(await c.post(f"/v1/pledges/{pledge_id}/publication", headers=d.branch_secretary))


async def test_a_selection_from_nomination_to_commendation(servers: Servers) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, clock):
        p, e, pool = pledge.client, evaluation.client, evaluation.runtime.pool
        d = await Directory(p, servers).build()
        third = ok(
            await p.post(
                "/v1/members",
                json={"branch_id": d.branch, "name": "王德明", "post": "护林员", "duties": "护林"},
                headers=d.office,
            ),
            201,
        )["id"]
        await member_pledge_published(pledge, d)
        await directory_copied(evaluation, d)
        # both reviewed in one quarter, the secretary graded worse (R3)
        worse = ["basically_qualified", "basically_qualified", "unqualified", "unqualified"]
        await publish_reviews(
            evaluation,
            review(d, "rv-1", d.member, ["excellent"] * 4),
            review(d, "rv-2", d.secretary, worse),
        )

        async def copied() -> bool:
            pledges = await pool.fetchval(
                "SELECT count(*) FROM pledge_copy WHERE item_ids IS NOT NULL"
            )
            reviews = await pool.fetchval("SELECT count(*) FROM review_copy")
            members = await pool.fetchval(
                "SELECT count(*) FROM dir_members WHERE member_id = $1", third
            )
            return bool(pledges == 1 and reviews == 2 and members == 1)

        await eventually(copied, timeout=20)
        members = [d.member, d.secretary, third]

        # the records the composite is computed from: a monthly rating and a closed round
        rating = {
            "level": "branch_rates_members",
            "branch_id": d.branch,
            "period": "2027-02",
            "results": [
                {"subject_id": d.member, "grade": "qualified", "score": 85},
                {"subject_id": d.secretary, "grade": "excellent", "score": 92},
                {"subject_id": third, "grade": "basically_qualified", "score": 65},
            ],
        }
        ok(await e.post("/v1/ratings", json=rating, headers=d.branch_secretary), 201)
        opening = {"title": "党员评议", "year": 2027, "half": 1, "branch_id": d.branch}
        opening["opens_on"] = "2027-03-01"
        round_id = ok(await e.post("/v1/rounds", json=opening, headers=d.branch_secretary), 201)[
            "id"
        ]
        raters = {"raters": [{"kind": "branch_member", "member_id": m} for m in members]}
        ok(
            await e.post(f"/v1/rounds/{round_id}/raters", json=raters, headers=d.branch_secretary),
            201,
        )
        grades = {d.member: "excellent", d.secretary: "qualified", third: "unqualified"}
        for m in members:
            voter = d.as_("member", d.branch, m)
            ok(
                await e.post(
                    f"/v1/rounds/{round_id}/ballots", json={"grades": grades}, headers=voter
                ),
                201,
            )
        ok(await e.post(f"/v1/rounds/{round_id}/closure", headers=d.branch_secretary))

        # S2: the formula is declared and versioned before the first stage
        selection = {"township_id": d.township, "year": 2027, "title": "2027年度优秀共产党员评选"}
        selection["subject_kind"] = "member"
        assert (
            await e.post("/v1/selections", json=selection, headers=d.branch_secretary)
        ).status_code == 403
        sid = ok(await e.post("/v1/selections", json=selection, headers=d.office), 201)["id"]
        # S1: once a year: a second 2027 member selection is refused and appends nothing
        before = await event_count(evaluation)
        again = await e.post("/v1/selections", json=selection, headers=d.office)
        assert again.status_code == 409, again.text
        detail = again.json()["detail"]
        assert "once a year" in detail
        assert sid in detail
        assert await event_count(evaluation) == before
        formula = {
            "weights": {"ratings": 0.5, "evaluation": 0.5},
            "when_missing": "zero",
            "quotas": [2, 1],
        }
        assert (
            ok(await e.post(f"/v1/selections/{sid}/formula", json=formula, headers=d.office))[
                "version"
            ]
            == 1
        )
        formula = {
            "weights": {"ratings": 0.4, "evaluation": 0.4, "pledges": 0.1, "reviews": 0.1},
            "when_missing": "reweight",
            "quotas": [2, 1],
        }
        assert (
            ok(await e.post(f"/v1/selections/{sid}/formula", json=formula, headers=d.office))[
                "version"
            ]
            == 2
        )

        # nominations come up from the branch
        nominations = f"/v1/selections/{sid}/nominations"
        for m in members:
            ok(
                await e.post(
                    nominations,
                    json={"subject_id": m, "reason": "表现突出"},
                    headers=d.branch_secretary,
                ),
                201,
            )
        other = d.as_("township_office", d.other_township)
        assert (
            await e.post(
                nominations, json={"subject_id": d.member, "reason": "再次"}, headers=other
            )
        ).status_code == 403

        ok(await e.post(f"/v1/selections/{sid}/stages", headers=d.office), 201)
        assert (
            await e.post(f"/v1/selections/{sid}/formula", json=formula, headers=d.office)
        ).status_code == 409
        ok(await e.post(f"/v1/selections/{sid}/stages", headers=d.office), 201)
        assert (await e.post(f"/v1/selections/{sid}/stages", headers=d.office)).status_code == 409

        shown = ok(await e.get(f"/v1/selections/{sid}"))
        first, second = shown["stages"]
        scores = {c["subject_id"]: c["composite"] for c in first["candidates"]}
        # member: 0.4·85 + 0.4·100 + 0.1·0 [pledge: 0 of 2 items closed] + 0.1·100 [reviews]
        # secretary: (0.4·92 + 0.4·85 + 0.1·30 [reviews: (60+60+0+0)/4]) / 0.9, no pledge
        # third: (0.4·65 + 0.4·0) / 0.8, neither pledge nor reviews
        assert scores == {d.member: 84.0, d.secretary: 82.0, third: 32.5}
        reviews = {
            c["subject_id"]: next(i for i in c["inputs"] if i["source"] == "reviews")
            for c in first["candidates"]
        }
        # the same coverage (one quarter each), the worse grades score lower (S2, R3)
        assert reviews[d.member] == {"source": "reviews", "value": 100.0, "evidence": ["rv-1"]}
        assert reviews[d.secretary] == {"source": "reviews", "value": 30.0, "evidence": ["rv-2"]}
        assert reviews[third]["value"] is None
        assert shown["formula"]["reviews"] == {
            "measure": "grades",
            "points": {
                "excellent": 100,
                "qualified": 85,
                "basically_qualified": 60,
                "unqualified": 0,
            },
        }
        assert [c["subject_id"] for c in first["candidates"] if c["shortlisted"]] == [
            d.member,
            d.secretary,
        ]
        assert [c["subject_id"] for c in second["candidates"] if c["shortlisted"]] == [d.member]
        assert second["candidates"][1]["reason"].startswith("not shortlisted: rank 2 of 2")
        assert first["formula_version"] == 2

        # a later rating changes the live records, not the recomputation of what was decided
        later = {**rating, "period": "2027-03"}
        ok(
            await e.post(
                "/v1/ratings",
                json=later | {"results": rating["results"][::-1]},
                headers=d.branch_secretary,
            ),
            201,
        )
        for stage in (1, 2):
            again = ok(await e.get(f"/v1/selections/{sid}/stages/{stage}/recomputation"))
            assert again["matches"], again

        # S3: public notice, objections answered, commendation around July 1
        ok(await e.post(f"/v1/selections/{sid}/notice", headers=d.office))
        objection = {"subject_id": d.member, "summary": "曾有群众反映工作作风问题"}
        objection_id = ok(
            await e.post(
                f"/v1/selections/{sid}/objections",
                json=objection,
                headers=d.as_("member", d.branch, third),
            ),
            201,
        )["objection_id"]
        clock.set(datetime(2027, 6, 30, 2, 0, tzinfo=UTC))
        commend = f"/v1/selections/{sid}/commendation"
        assert (await e.post(commend, headers=d.office)).status_code == 409  # unanswered
        answer = {"answer": "经核查, 反映问题不属实", "upheld": False}
        ok(
            await e.post(
                f"/v1/selections/{sid}/objections/{objection_id}/answer",
                json=answer,
                headers=d.committee,
            )
        )
        ok(await e.post(commend, headers=d.office))
        [issued] = ok(await e.get(f"/v1/commendations?township_id={d.township}"))
        assert issued["issued_on"] == "2027-06-30"
        assert [(a["subject_id"], a["subject_name"]) for a in issued["awardees"]] == [
            (d.member, "李秀英")
        ]
        event: Any = await pool.fetchval(
            "SELECT convert_from(body, 'UTF8') FROM events WHERE type = 'CommendationIssued'"
        )
        assert '"awardees"' in event
        assert "rank 1 of 2" in event
        # the selection's tables and the copies it scored from rebuild to what they are now
        await rebuilt_as_live(pool, EVALUATION.read_models)
        for table in ("selections", "selection_candidates", "review_copy", "pledge_copy"):
            assert await pool.fetchval(f"SELECT count(*) FROM {table}"), f"{table} is empty"
