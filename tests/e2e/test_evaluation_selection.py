"""The annual selection (S1–S3) over HTTP, one year of it: a July selection whose declared
formula reads the twelve months before it opens (last year's second round and this year's
first; not last year's first round, nor last May's rating, nor this year's pledge whose items
fall due in December), from ratings, mass evaluation, pledges (pledge events) and leadership
reviews graded per dimension (the review service's own event class, published here as that
service would); nominations from the branch; two stages, each scored by the office and
decided by the township committee with its reasons, departing from the score's suggestion;
every score recomputed from the records it names; public notice, an objection answered, the
commendation the committee issues; then the county selects from the townships' winners."""

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


def review(
    d: Directory,
    review_id: str,
    subject_id: str,
    grades: list[str],
    held_on: date = date(2027, 2, 20),
) -> r.ReviewRecorded:
    """A member's review as the review service records it (its real event class), one grade
    per dimension (R3)."""
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
        quarter=f"{held_on.year}Q{(held_on.month - 1) // 3 + 1}",
        held_on=held_on,
        achievements="完成节水任务",
        shortcomings="宣传不足",
        direction="加强入户宣传",
        files=(),
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


async def a_member_round(
    e: Any, d: Directory, members: list[str], year: int, half: int, today: date, grades: list[str]
) -> str:
    """The branch's round on its members, opened today, every member rating each with the
    grades given (in `members` order), closed and published today."""
    opening = {"title": "党员评议", "year": year, "half": half, "branch_id": d.branch}
    round_id: str = ok(
        await e.post(
            "/v1/rounds", json=opening | {"opens_on": str(today)}, headers=d.branch_secretary
        ),
        201,
    )["id"]
    raters = {"raters": [{"kind": "branch_member", "member_id": m} for m in members]}
    ok(await e.post(f"/v1/rounds/{round_id}/raters", json=raters, headers=d.branch_secretary), 201)
    ballot = {"grades": dict(zip(members, grades, strict=True))}
    for m in members:
        voter = d.as_("member", d.branch, m)
        ok(await e.post(f"/v1/rounds/{round_id}/ballots", json=ballot, headers=voter), 201)
    ok(await e.post(f"/v1/rounds/{round_id}/closure", headers=d.branch_secretary))
    return round_id


async def a_rating(e: Any, d: Directory, members: list[str], period: str, scores: list[int]) -> str:
    results = [
        {"subject_id": m, "grade": "qualified", "score": score}
        for m, score in zip(members, scores, strict=True)
    ]
    body = {"level": "branch_rates_members", "branch_id": d.branch, "period": period}
    answer = await e.post(
        "/v1/ratings", json=body | {"results": results}, headers=d.branch_secretary
    )
    return str(ok(answer, 201)["id"])


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 in China


async def test_a_year_from_the_window_to_the_county(servers: Servers) -> None:
    async with pledge_and_evaluation(servers, at(date(2026, 6, 1))) as (pledge, evaluation, clock):
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
        await directory_copied(evaluation, d)

        async def third_copied() -> bool:
            found = await pool.fetchval(
                "SELECT count(*) FROM dir_members WHERE member_id = $1", third
            )
            return bool(found == 1)

        await eventually(third_copied, timeout=20)
        members = [d.member, d.secretary, third]

        # last June: a rating of May and the first round, both before the window
        may = await a_rating(e, d, members, "2026-05", [10, 10, 10])
        last_first = await a_member_round(
            e, d, members, 2026, 1, date(2026, 6, 1), ["unqualified", "unqualified", "excellent"]
        )
        # last December: its rating and the second round (closing by January 5): counted
        clock.set(at(date(2026, 12, 10)))
        december = await a_rating(e, d, members, "2026-12", [80, 90, 60])
        last_second = await a_member_round(
            e, d, members, 2026, 2, date(2026, 12, 10), ["excellent", "qualified", "unqualified"]
        )
        # this year: February's rating, this year's pledge (its items fall due later), the
        # first round in June
        clock.set(at(date(2027, 3, 1)))
        february = await a_rating(e, d, members, "2027-02", [90, 94, 70])
        await member_pledge_published(pledge, d)
        clock.set(at(date(2027, 6, 1)))
        this_first = await a_member_round(
            e,
            d,
            members,
            2027,
            1,
            date(2027, 6, 1),
            ["excellent", "qualified", "basically_qualified"],
        )
        # reviews: the member's and the secretary's in February (the secretary graded worse,
        # R3), the third member's last June (before the window)
        worse = ["basically_qualified", "basically_qualified", "unqualified", "unqualified"]
        await publish_reviews(
            evaluation,
            review(d, "rv-1", d.member, ["excellent"] * 4),
            review(d, "rv-2", d.secretary, worse),
            review(d, "rv-0", third, ["excellent"] * 4, held_on=date(2026, 6, 20)),
        )

        async def copied() -> bool:
            pledges = await pool.fetchval(
                "SELECT count(*) FROM pledge_copy WHERE item_ids IS NOT NULL"
            )
            reviews = await pool.fetchval("SELECT count(*) FROM review_copy")
            return bool(pledges == 1 and reviews == 3)

        await eventually(copied, timeout=20)

        # July: the office opens the selection; S1: once a year
        clock.set(at(date(2027, 7, 5)))
        selection = {"township_id": d.township, "year": 2027, "title": "2027年度优秀共产党员评选"}
        selection |= {"subject_kind": "member", "commendation_on": "2027-07-15"}
        assert (
            await e.post("/v1/selections", json=selection, headers=d.branch_secretary)
        ).status_code == 403
        sid = ok(await e.post("/v1/selections", json=selection, headers=d.office), 201)["id"]
        before = await event_count(evaluation)
        again = await e.post("/v1/selections", json=selection, headers=d.office)
        assert again.status_code == 409, again.text
        detail = again.json()["detail"]
        assert "每年只评选一次" in detail
        assert sid in detail
        assert await event_count(evaluation) == before
        # S2: the formula is declared and versioned before the first stage; its window by
        # default the twelve months before the opening
        formula = {
            "weights": {"ratings": 0.5, "evaluation": 0.5},
            "when_missing": "zero",
            "quotas": [2, 1],
        }
        declared = await e.post(f"/v1/selections/{sid}/formula", json=formula, headers=d.office)
        assert ok(declared)["version"] == 1
        formula = {
            "weights": {"ratings": 0.4, "evaluation": 0.4, "pledges": 0.1, "reviews": 0.1},
            "when_missing": "reweight",
            "quotas": [2, 1],
        }
        declared = await e.post(f"/v1/selections/{sid}/formula", json=formula, headers=d.office)
        assert ok(declared)["version"] == 2

        # nominations come up from the branch
        nominations = f"/v1/selections/{sid}/nominations"
        reasons = {d.member: "带头推广滴灌", d.secretary: "班子团结有力", third: "护林无火情"}
        for m in members:
            nomination = {"subject_id": m, "reason": reasons[m]}
            ok(await e.post(nominations, json=nomination, headers=d.branch_secretary), 201)
        other = d.as_("township_office", d.other_township)
        assert (
            await e.post(
                nominations, json={"subject_id": d.member, "reason": "再次"}, headers=other
            )
        ).status_code == 403

        stages = f"/v1/selections/{sid}/stages"
        ok(await e.post(stages, headers=d.office), 201)
        assert (
            await e.post(f"/v1/selections/{sid}/formula", json=formula, headers=d.office)
        ).status_code == 409
        assert (await e.post(stages, headers=d.office)).status_code == 409  # undecided

        shown = ok(await e.get(f"/v1/selections/{sid}"))
        assert shown["formula"]["window"] == {"starts_on": "2026-07-05", "ends_on": "2027-07-04"}
        [first] = shown["stages"]
        assert first["decided_by"] is None
        by_subject = {c["subject_id"]: c for c in first["candidates"]}
        sources = {m: {i["source"]: i for i in by_subject[m]["inputs"]} for m in members}
        # last year's second round and this year's first; not last year's first
        assert sources[d.member]["evaluation"]["evidence"] == sorted([last_second, this_first])
        assert last_first not in sources[third]["evaluation"]["evidence"]
        assert sources[d.member]["ratings"]["evidence"] == sorted([december, february])
        assert may not in sources[d.member]["ratings"]["evidence"]
        assert sources[third]["reviews"] == {"source": "reviews", "value": None, "evidence": []}
        # this year's pledge falls due in December: not in the window, not a zero
        assert sources[d.member]["pledges"] == {"source": "pledges", "value": None, "evidence": []}
        # member: (0.4·85 + 0.4·100 + 0.1·100) / 0.9; secretary: (0.4·92 + 0.4·85 + 0.1·30)
        # / 0.9; third: (0.4·65 + 0.4·30) / 0.8
        scores = {c["subject_id"]: c["composite"] for c in first["candidates"]}
        assert scores == {d.member: 93.33, d.secretary: 82.0, third: 47.5}
        assert [c["subject_id"] for c in first["candidates"] if c["suggested"]] == [
            d.member,
            d.secretary,
        ]

        # the township committee decides the stage, per candidate, in its own words
        decision = {
            "decisions": [
                {"subject_id": d.member, "advanced": True, "reason": "推广滴灌成效显著，群众公认"},
                {"subject_id": d.secretary, "advanced": True, "reason": "带领班子攻坚有力"},
                {"subject_id": third, "advanced": False, "reason": "本年度群众评议偏低"},
            ]
        }
        decide = f"/v1/selections/{sid}/stages/1/decision"
        before = await event_count(evaluation)
        assert (await e.post(decide, json=decision, headers=d.office)).status_code == 403
        assert await event_count(evaluation) == before
        ok(await e.post(decide, json=decision, headers=d.committee))
        ok(await e.post(stages, headers=d.office), 201)
        # the second stage suggests the member; the committee commends the secretary, and says why
        final = {
            "decisions": [
                {"subject_id": d.member, "advanced": False, "reason": "已获县级表彰，推荐他人"},
                {"subject_id": d.secretary, "advanced": True, "reason": "带领全村完成节水改造"},
            ]
        }
        ok(await e.post(f"/v1/selections/{sid}/stages/2/decision", json=final, headers=d.committee))
        shown = ok(await e.get(f"/v1/selections/{sid}"))
        second = shown["stages"][1]
        assert [c["subject_id"] for c in second["candidates"] if c["suggested"]] == [d.member]
        assert second["decided_by"] == "township_committee"
        assert [x["advanced"] for x in second["decisions"]] == [False, True]

        # a later rating changes the live records, not the recomputation of what was decided
        await a_rating(e, d, members, "2027-06", [0, 0, 0])
        for stage in (1, 2):
            again = ok(await e.get(f"/v1/selections/{sid}/stages/{stage}/recomputation"))
            assert again["matches"], again

        # S3: public notice, objections answered, the committee issues the commendation
        ok(await e.post(f"/v1/selections/{sid}/notice", headers=d.office))
        objection = {"subject_id": d.secretary, "summary": "曾有群众反映工作作风问题"}
        objection_id = ok(
            await e.post(
                f"/v1/selections/{sid}/objections",
                json=objection,
                headers=d.as_("member", d.branch, third),
            ),
            201,
        )["objection_id"]
        in_person = {"subject_id": d.secretary, "summary": "村民来镇反映：支渠工程已通水"}
        ok(await e.post(f"/v1/selections/{sid}/objections", json=in_person, headers=d.office), 201)
        clock.set(at(date(2027, 7, 13)))
        commend = f"/v1/selections/{sid}/commendation"
        assert (await e.post(commend, headers=d.committee)).status_code == 409  # unanswered
        answer = {"answer": "经核查, 反映问题不属实", "upheld": False}
        for o in ok(await e.get(f"/v1/selections/{sid}"))["objections"]:
            path = f"/v1/selections/{sid}/objections/{o['objection_id']}/answer"
            ok(await e.post(path, json=answer, headers=d.committee))
        assert [
            o["in_person"] for o in ok(await e.get(f"/v1/selections/{sid}"))["objections"]
        ].count(True) == 1
        assert objection_id
        assert (await e.post(commend, headers=d.office)).status_code == 403  # not the office's
        ok(await e.post(commend, headers=d.committee))
        [issued] = ok(await e.get(f"/v1/commendations?township_id={d.township}"))
        assert issued["issued_on"] == "2027-07-13"
        [awardee] = issued["awardees"]
        assert (awardee["subject_id"], awardee["subject_name"]) == (d.secretary, "张建国")
        assert (awardee["reason"], awardee["nomination_reason"]) == (
            "带领全村完成节水改造",
            "班子团结有力",
        )
        event: Any = await pool.fetchval(
            "SELECT convert_from(body, 'UTF8') FROM events WHERE type = 'CommendationIssued'"
        )
        for generated in ("rank", "shortlisted", "composite"):  # no generated text to publish
            assert generated not in event

        # the county selects across townships, from the townships' winners
        county = d.as_("county_admin", d.county)
        opening = {"level": "county", "county_id": d.county, "year": 2027}
        opening |= {"title": "2027年度全县优秀共产党员", "subject_kind": "member"}
        opening |= {"commendation_on": "2027-07-16"}
        assert (await e.post("/v1/selections", json=opening, headers=d.office)).status_code == 403
        cid = ok(await e.post("/v1/selections", json=opening, headers=county), 201)["id"]
        cformula = {"weights": {"ratings": 0.5, "evaluation": 0.5}, "when_missing": "zero"}
        ok(
            await e.post(
                f"/v1/selections/{cid}/formula", json=cformula | {"quotas": [1]}, headers=county
            )
        )
        up = f"/v1/selections/{cid}/nominations"
        not_a_winner = await e.post(
            up, json={"subject_id": d.member, "reason": "推广滴灌"}, headers=d.office
        )
        assert not_a_winner.status_code == 422, not_a_winner.text
        assert not_a_winner.json()["errors"][0]["field"] == "subject_id"
        winner = {"subject_id": d.secretary, "reason": "镇级优秀共产党员，带领节水改造"}
        ok(await e.post(up, json=winner, headers=d.office), 201)
        ok(await e.post(f"/v1/selections/{cid}/stages", headers=county), 201)
        verdict = {
            "decisions": [{"subject_id": d.secretary, "advanced": True, "reason": "全县节水示范"}]
        }
        path = f"/v1/selections/{cid}/stages/1/decision"
        assert (await e.post(path, json=verdict, headers=d.committee)).status_code == 403
        ok(await e.post(path, json=verdict, headers=county))
        shown = ok(await e.get(f"/v1/selections/{cid}"))
        assert (shown["level"], shown["organisation_id"]) == ("county", d.county)
        assert shown["stages"][0]["decided_by"] == "county"

        # the selection's tables and the copies it scored from rebuild to what they are now
        await rebuilt_as_live(pool, EVALUATION.read_models)
        for table in ("selections", "selection_candidates", "review_copy", "pledge_copy"):
            assert await pool.fetchval(f"SELECT count(*) FROM {table}"), f"{table} is empty"
