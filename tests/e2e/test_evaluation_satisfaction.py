"""E8 with P10c across the two running services over NATS: an item reported done opens a
satisfaction check here; the people it served vote; the office closes the check; the
verdict closes the item in the pledge ledger, or leaves it open for lack of satisfaction."""

from __future__ import annotations

from datetime import timedelta

from services.evaluation.app import DEFINITION as EVALUATION
from services.pledge.contracts import SatisfactionVerdictReached
from shared.personal import ERASED
from tests.e2e.evaluation_helpers import (
    caught_up,
    pledge_and_evaluation,
    published_branch_pledge,
    rater,
    read_model_rows,
)
from tests.e2e.helpers import Directory, eventually, ok
from tests.support import RunningService, Servers, rebuilt_as_live

RESIDENT = {"name": "张桂兰", "phone": "13912345678"}


async def served_people_are_sealed_masked_and_erasable(
    evaluation: RunningService, d: Directory, check_id: str
) -> None:
    """A7 for the people an item served: in the log only sealed, shown masked to the office,
    erased on request."""
    e, people = evaluation.client, f"/v1/satisfaction-checks/{check_id}/raters"
    assert (await e.get(people, headers=d.branch_secretary)).status_code == 403
    assert (await e.get(people, headers=d.as_("township_office", "t-other"))).status_code == 403
    [resident] = [r for r in ok(await e.get(people, headers=d.office))["raters"] if r["name"]]
    assert (resident["name"], resident["phone"]) == ("张桂兰", "139****5678")
    assert not resident["erased"]
    bodies = await evaluation.runtime.pool.fetch("SELECT body FROM events")
    log = b"".join(r["body"] for r in bodies)
    rows = await read_model_rows(evaluation)  # the read models keep it sealed too
    assert b"check_raters" in rows
    for plaintext in RESIDENT.values():
        assert plaintext.encode() not in log
        assert plaintext.encode() not in rows
    admin = d.as_("county_admin", d.county)
    ok(await e.post(f"/v1/people/{resident['rater_id']}/erasure", headers=admin), 201)
    [after] = [r for r in ok(await e.get(people, headers=d.office))["raters"] if r["erased"]]
    assert after["rater_id"] == resident["rater_id"]
    assert (after["name"], after["phone"]) == (ERASED, None)


async def test_one_item_closes_and_one_stays_open_for_lack_of_satisfaction(
    servers: Servers,
) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, clock):
        p, e = pledge.client, evaluation.client
        d = await Directory(p, servers).build()
        pledge_id, (canal, drip, road) = await published_branch_pledge(
            pledge, d, "改造支渠3公里", "推广滴灌500亩", "硬化村道2公里"
        )
        for item_id in (canal, drip, road):
            base = f"/v1/pledges/{pledge_id}/items/{item_id}"
            ok(await p.post(f"{base}/done", json={"summary": "已完成"}, headers=d.branch_secretary))
            ok(await p.post(f"{base}/problem-solved", json={"note": "已解决"}, headers=d.office))
            ok(
                await p.post(
                    f"{base}/implementation-verified", json={"note": "核查到位"}, headers=d.office
                )
            )

        async def opened(item_id: str) -> str:
            found: list[dict[str, str]] = []

            async def check() -> bool:
                found[:] = ok(await e.get(f"/v1/satisfaction-checks?item_id={item_id}"))
                return bool(found)

            await eventually(check, timeout=20)
            assert found[0]["status"] == "open"
            assert found[0]["pledge_id"] == pledge_id
            return found[0]["check_id"]

        canal_check, drip_check = await opened(canal), await opened(drip)
        road_check = await opened(road)  # nobody will vote on this one
        clock.advance(timedelta(days=2))

        async def vote(check_id: str, grades: list[str], first: dict[str, str]) -> None:
            public = [first] + [{} for _ in grades[1:]]  # the public; one with contact details
            served = ok(
                await e.post(
                    f"/v1/satisfaction-checks/{check_id}/raters",
                    json={"raters": [*public, {"member_id": d.member}]},
                    headers=d.office,
                ),
                201,
            )["rater_ids"]
            assert served[-1] == d.member
            for rater_id, grade in zip(served[:-2], grades[:-1], strict=True):
                ok(
                    await e.post(
                        f"/v1/satisfaction-checks/{check_id}/ballots",
                        json={"grade": grade},
                        headers=rater(servers, check_id, rater_id),
                    ),
                    201,
                )
            # the last one on paper, entered by the office (E3a)
            ok(
                await e.post(
                    f"/v1/satisfaction-checks/{check_id}/ballots",
                    json={"grade": grades[-1], "rater_id": served[-2], "channel": "paper"},
                    headers=d.office,
                ),
                201,
            )

        await vote(canal_check, ["satisfied"] * 4 + ["mostly_satisfied"], RESIDENT)
        await vote(
            drip_check,
            ["satisfied", "dissatisfied", "dissatisfied", "mostly_satisfied"],
            {},
        )
        # E3: the auditor checks ballots against distinct registered raters, as for rounds
        audit = ok(
            await e.get(
                f"/v1/satisfaction-checks/{drip_check}/audit", headers=d.as_("auditor", d.county)
            )
        )
        # fewer ballots than k: all wait in the urn until close (issue 17), counted by the check
        assert (audit["participations"], audit["in_urn"], audit["problems"]) == (4, 4, [])
        assert audit["ballots"] == 0
        assert audit["consistent"]
        denied = await e.get(f"/v1/satisfaction-checks/{drip_check}/audit", headers=d.office)
        assert denied.status_code == 403
        await served_people_are_sealed_masked_and_erasable(evaluation, d, canal_check)
        assert (
            ok(await e.post(f"/v1/satisfaction-checks/{canal_check}/closure", headers=d.office))[
                "verdict"
            ]
            == "satisfied"
        )
        assert (
            ok(await e.post(f"/v1/satisfaction-checks/{drip_check}/closure", headers=d.office))[
                "verdict"
            ]
            == "dissatisfied"
        )
        drip_view = ok(await e.get(f"/v1/satisfaction-checks/{drip_check}"))
        assert (drip_view["ballots"], drip_view["satisfaction_rate"]) == (4, 0.5)
        assert (drip_view["registered"], drip_view["voted"]) == (5, 4)

        async def ledger() -> dict[str, dict[str, object]]:
            rows = ok(await p.get(f"/v1/ledger?branch_id={d.branch}"))["rows"]
            return {row["item_id"]: row for row in rows}

        async def settled() -> bool:
            rows = await ledger()
            return rows[canal]["status"] == "closed" and rows[drip]["open_reasons"] == [
                "public_not_satisfied"
            ]

        await eventually(settled, timeout=20)
        assert (await ledger())[drip]["status"] == "open"

        # at the end of its window (the injectable clock), the silent check closes too
        closures = f"/v1/townships/{d.township}/satisfaction-checks/closures"
        assert ok(await e.post(closures, headers=d.office))["verdicts"] == {}
        clock.advance(timedelta(days=13))  # opened on day 0, the window ends on day 14
        # the service's own scheduled pass closes it, acting for the office
        [closer] = [w for w in evaluation.runtime.periodic if w.name.startswith("close-due")]
        await closer.step()
        # no ballot, no verdict (E8): the check lapses and the item stays open as not rated
        road_view = ok(await e.get(f"/v1/satisfaction-checks/{road_check}"))
        assert (road_view["status"], road_view["verdict"]) == ("lapsed", None)
        assert ok(await e.post(closures, headers=d.office))["verdicts"] == {}  # nothing left
        assert not [
            v
            for v in await evaluation.runtime.store.read_stream(f"satisfaction_check-{road_check}")
            if v.type == "SatisfactionVerdictReached"
        ]

        async def road_settled() -> bool:
            return (await ledger())[road]["open_reasons"] == ["satisfaction_not_rated"]

        await eventually(road_settled, timeout=20)
        # the office reopens it with a later closing date; a ballot then counts
        reopen = f"/v1/satisfaction-checks/{road_check}/extension"
        too_early = await e.post(reopen, json={"closes_on": "2020-01-01"}, headers=d.office)
        assert too_early.status_code == 422, too_early.text
        assert (await e.post(reopen, json={"closes_on": "2099-01-01"})).status_code == 401
        later = (clock.now() + timedelta(days=7)).date().isoformat()
        ok(await e.post(reopen, json={"closes_on": later}, headers=d.office))
        assert ok(await e.get(f"/v1/satisfaction-checks/{road_check}"))["status"] == "open"

        async def road_pending_again() -> bool:
            return (await ledger())[road]["open_reasons"] == ["satisfaction_pending"]

        await eventually(road_pending_again, timeout=20)

        # the verdict is the pledge service's contract, on the contract's stream
        stream = await evaluation.runtime.store.read_stream(f"satisfaction_check-{canal_check}")
        verdict = stream[-1]
        assert (verdict.type, verdict.partition) == ("SatisfactionVerdictReached", d.township)
        contract = SatisfactionVerdictReached.model_validate(verdict.data)  # what the pledge reads
        assert (contract.item_id, contract.verdict) == (canal, "satisfied")
        assert verdict.data["ballots"] == 5
        assert evaluation.subjects.of("evaluation", verdict).endswith(
            f".{d.township}.satisfaction_check.SatisfactionVerdictReached"
        )

        # a closed check takes no more ballots, and nothing is appended
        before = await evaluation.runtime.pool.fetchval("SELECT count(*) FROM events")
        late = await e.post(
            f"/v1/satisfaction-checks/{canal_check}/ballots",
            json={"grade": "satisfied"},
            headers=d.the_member,
        )
        assert late.status_code == 409, late.text
        assert await evaluation.runtime.pool.fetchval("SELECT count(*) FROM events") == before

        # A2: the checks, their ballots and the directory copy rebuild to the same rows
        runtime = evaluation.runtime

        async def closed_item_consumed() -> bool:  # ItemClosed flows back here (S2 inputs)
            found = await runtime.pool.fetchval("SELECT count(*) FROM pledge_items_closed")
            return bool(found == 1)

        await eventually(closed_item_consumed, timeout=20)
        await caught_up(pledge, evaluation)
        live = await rebuilt_as_live(runtime.pool, EVALUATION.read_models)
        assert live["check_tally"].startswith("5:")  # grades per check
