"""Bad input to every state-changing endpoint of the evaluation service is refused with an
RFC 9457 problem and appends nothing (X3), in the style of test_bad_input.py (whose case
helpers it reuses): one good request per route, and bad cases that each change one thing
about it (body, credentials, or the caller's role or place). A route-coverage test fails for
a new endpoint without cases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from services.evaluation.app import DEFINITION as EVALUATION
from shared.auth import LocalSigningKey
from shared.clock import FixedClock
from tests.e2e.bad_input import assert_refused, event_count, state_changing_routes
from tests.e2e.evaluation_helpers import (
    directory_copied,
    pledge_and_evaluation,
    published_branch_pledge,
    rater,
)
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.test_bad_input import (
    EXPIRED,
    FORBIDDEN,
    GARBAGE,
    MALFORMED,
    UNAUTHENTICATED,
    WRONG_KEY,
    Call,
    Case,
    Headers,
    forbidden,
    malformed,
    unauthenticated,
    with_,
    without,
)
from tests.support import RunningService, Servers

STAR = {"grade": "five", "label": "★★★★★", "score": 100, "satisfied": True}


@dataclass
class World:
    pledge: RunningService
    service: RunningService
    d: Directory
    servers: Servers
    round_id: str = ""  # open, raters registered: web, paper
    web: str = ""
    paper: str = ""
    closing: str = ""  # another open round, closed by its good request
    check_id: str = ""  # a satisfaction check, one served person registered
    served: str = ""
    nominating: str = ""  # a selection of members, formula declared, nothing nominated
    scoring: str = ""  # formula (one stage), one nomination
    scored: str = ""  # every stage scored, none decided
    decided: str = ""  # every stage scored and decided by the committee
    noticed: str = ""  # on public notice (30 days), one objection filed
    objection: str = ""
    commending: str = ""  # its notice period is over: the commendation may be issued

    @property
    def service_key(self) -> LocalSigningKey:
        """The key whose tokens the service trusts (the shared helpers re-sign with it)."""
        return self.servers.key

    @property
    def county(self) -> str:
        return self.d.county

    @property
    def township(self) -> str:
        return self.d.township

    @property
    def branch(self) -> str:
        return self.d.branch

    def as_(self, role: str, org: str | None = None, subject: str | None = None) -> Headers:
        return self.d.as_(role, org, subject)

    @property
    def office(self) -> Headers:
        return self.d.office

    @property
    def other_office(self) -> Headers:
        return self.as_("township_office", self.d.other_township)

    @property
    def secretary(self) -> Headers:
        return self.d.branch_secretary


WORLD_START = datetime(2027, 6, 5, 2, 0, tzinfo=UTC)  # a check opened now is due by June 26
WORLD_BUILT = datetime(2027, 6, 20, 2, 0, tzinfo=UTC)  # before the commendation (S3)
AFTER_NOTICE = datetime(2027, 6, 26, 2, 0, tzinfo=UTC)
FORMULA = {"weights": {"ratings": 0.5, "evaluation": 0.5}, "when_missing": "zero", "quotas": [1]}


def decision(w: World) -> dict[str, Any]:
    return {"decisions": [{"subject_id": w.d.member, "advanced": True, "reason": "群众公认"}]}


async def selection_in_state(w: World, stage: str, year: int, notice_days: int = 30) -> str:
    """A member selection of `year` (one a year, S1) brought up to `stage`."""
    e, office = w.service.client, w.office
    body = {"township_id": w.township, "year": year, "title": "优秀党员评选"}
    body |= {"subject_kind": "member", "notice_days": notice_days}
    sid: str = ok(await e.post("/v1/selections", json=body, headers=office), 201)["id"]
    steps = ["formula", "nominations", "stages", "decision", "notice"]
    for step in steps[: steps.index(stage) + 1] if stage != "opened" else []:
        if step == "formula":
            ok(await e.post(f"/v1/selections/{sid}/formula", json=FORMULA, headers=office))
        elif step == "nominations":
            nomination = {"subject_id": w.d.member, "reason": "表现突出"}
            ok(
                await e.post(f"/v1/selections/{sid}/nominations", json=nomination, headers=office),
                201,
            )
        elif step == "decision":
            path = f"/v1/selections/{sid}/stages/1/decision"
            ok(await e.post(path, json=decision(w), headers=w.d.committee))
        else:
            ok(
                await e.post(f"/v1/selections/{sid}/{step}", headers=office),
                201 if step == "stages" else 200,
            )
    return sid


async def build_world(
    pledge: RunningService, evaluation: RunningService, servers: Servers, clock: FixedClock
) -> World:
    d = await Directory(pledge.client, servers).build()
    w = World(pledge, evaluation, d, servers)
    await directory_copied(evaluation, d)
    e = evaluation.client
    opening = {"title": "群众评议", "year": 2027, "half": 1, "township_id": d.township}
    opening["opens_on"] = "2027-03-01"
    w.round_id = ok(await e.post("/v1/rounds", json=opening, headers=d.office), 201)["id"]
    w.closing = ok(await e.post("/v1/rounds", json=opening, headers=d.office), 201)["id"]
    public = {"raters": [{"kind": "public"}, {"kind": "public"}]}
    w.web, w.paper = ok(
        await e.post(f"/v1/rounds/{w.round_id}/raters", json=public, headers=d.office), 201
    )["rater_ids"]
    pledge_id, [due_item, item_id] = await published_branch_pledge(
        pledge, d, "新建蓄水池1座", "修缮村道"
    )

    async def check_for(item_id: str) -> str:
        ok(
            await pledge.client.post(
                f"/v1/pledges/{pledge_id}/items/{item_id}/done",
                json={"summary": "已完成"},
                headers=d.branch_secretary,
            )
        )
        found: list[dict[str, Any]] = []

        async def opened() -> bool:
            found[:] = ok(await e.get(f"/v1/satisfaction-checks?item_id={item_id}"))
            return bool(found)

        await eventually(opened, timeout=20)
        return str(found[0]["check_id"])

    await check_for(due_item)  # its window (June 5 to 19) is over by June 26
    clock.set(WORLD_BUILT)
    w.check_id = await check_for(item_id)
    [w.served] = ok(
        await e.post(
            f"/v1/satisfaction-checks/{w.check_id}/raters",
            json={"raters": [{}]},
            headers=d.office,
        ),
        201,
    )["rater_ids"]
    w.nominating = await selection_in_state(w, "formula", 2023)
    w.scoring = await selection_in_state(w, "nominations", 2024)
    w.scored = await selection_in_state(w, "stages", 2025)
    w.decided = await selection_in_state(w, "decision", 2022)
    w.noticed = await selection_in_state(w, "notice", 2026)
    objection = {"subject_id": d.member, "summary": "群众反映作风问题"}
    w.objection = ok(
        await e.post(
            f"/v1/selections/{w.noticed}/objections", json=objection, headers=d.the_member
        ),
        201,
    )["objection_id"]
    w.commending = await selection_in_state(w, "notice", 2027, notice_days=5)
    clock.set(AFTER_NOTICE)
    return w


GOOD: dict[str, Callable[[World], Call]] = {
    "/v1/counties/{county_id}/evaluation-calendars": lambda w: Call(
        f"/v1/counties/{w.county}/evaluation-calendars",
        {"year": 2027, "first_round_closes": "2027-07-08", "second_round_closes": "2028-01-05"},
        w.as_("county_admin", w.county),
        200,
    ),
    "/v1/rounds": lambda w: Call(
        "/v1/rounds",
        {
            "title": "支部党员评议",
            "year": 2027,
            "half": 1,
            "branch_id": w.branch,
            "opens_on": "2027-03-01",
        },
        w.secretary,
        201,
    ),
    "/v1/rounds/{round_id}/raters": lambda w: Call(
        f"/v1/rounds/{w.round_id}/raters",
        {
            "raters": [
                {"kind": "township_member", "member_id": w.d.member},
                {"kind": "public", "name": "王小明", "phone": "13812345678"},
            ]
        },
        w.office,
        201,
    ),
    "/v1/rounds/{round_id}/ballots": lambda w: Call(
        f"/v1/rounds/{w.round_id}/ballots",
        {"grades": {w.branch: "satisfied"}},
        rater(w.servers, w.round_id, w.web),
        201,
    ),
    "/v1/rounds/{round_id}/paper-ballots": lambda w: Call(
        f"/v1/rounds/{w.round_id}/paper-ballots",
        {"channel": "paper", "participants": [w.paper], "ballots": [{w.branch: "dissatisfied"}]},
        w.office,
        201,
    ),
    # issue 17: invitations (the codes are in the answer only; the events record the hash)
    "/v1/rounds/{scope_id}/invitations": lambda w: Call(
        f"/v1/rounds/{w.round_id}/invitations", {"rater_ids": [w.web]}, w.office, 201
    ),
    "/v1/rounds/{scope_id}/invitation-sheet": lambda w: Call(
        f"/v1/rounds/{w.round_id}/invitation-sheet", {"rater_ids": [w.paper]}, w.office, 200
    ),
    "/v1/rounds/{scope_id}/invitations/{rater_id}/reissue": lambda w: Call(
        f"/v1/rounds/{w.round_id}/invitations/{w.web}/reissue", {}, w.office, 201
    ),
    "/v1/rounds/{round_id}/closure": lambda w: Call(
        f"/v1/rounds/{w.closing}/closure", None, w.office, 200
    ),
    "/v1/satisfaction-checks/{check_id}/raters": lambda w: Call(
        f"/v1/satisfaction-checks/{w.check_id}/raters",
        {"raters": [{}, {"member_id": w.d.member}]},
        w.office,
        201,
    ),
    "/v1/satisfaction-checks/{check_id}/ballots": lambda w: Call(
        f"/v1/satisfaction-checks/{w.check_id}/ballots",
        {"grade": "mostly_satisfied"},
        rater(w.servers, w.check_id, w.served),
        201,
    ),
    "/v1/satisfaction-checks/{scope_id}/invitations": lambda w: Call(
        f"/v1/satisfaction-checks/{w.check_id}/invitations",
        {"rater_ids": [w.served]},
        w.office,
        201,
    ),
    "/v1/satisfaction-checks/{scope_id}/invitation-sheet": lambda w: Call(
        f"/v1/satisfaction-checks/{w.check_id}/invitation-sheet", {}, w.office, 200
    ),
    "/v1/satisfaction-checks/{scope_id}/invitations/{rater_id}/reissue": lambda w: Call(
        f"/v1/satisfaction-checks/{w.check_id}/invitations/{w.served}/reissue", {}, w.office, 201
    ),
    # before the closure below: a check still open gets a later closing date (E8)
    "/v1/satisfaction-checks/{check_id}/extension": lambda w: Call(
        f"/v1/satisfaction-checks/{w.check_id}/extension",
        {"closes_on": "2027-07-31"},
        w.office,
        200,
    ),
    "/v1/satisfaction-checks/{check_id}/closure": lambda w: Call(
        f"/v1/satisfaction-checks/{w.check_id}/closure", None, w.office, 200
    ),
    "/v1/counties/{county_id}/satisfaction-check-terms": lambda w: Call(
        f"/v1/counties/{w.county}/satisfaction-check-terms",
        {"year": 2027, "threshold": 0.9, "window_days": 21},
        w.as_("county_admin", w.county),
        200,
    ),
    "/v1/selections": lambda w: Call(
        "/v1/selections",
        {
            "township_id": w.township,
            "year": 2027,
            "title": "优秀党支部评选",
            "subject_kind": "branch",
        },
        w.office,
        201,
    ),
    "/v1/selections/{selection_id}/formula": lambda w: Call(
        f"/v1/selections/{w.nominating}/formula",
        {
            "weights": {"ratings": 0.3, "evaluation": 0.3, "pledges": 0.2, "reviews": 0.2},
            "when_missing": "reweight",
            "quotas": [3, 1],
            "review_points": {
                "excellent": 100,
                "qualified": 80,
                "basically_qualified": 50,
                "unqualified": 0,
            },
        },
        w.office,
        200,
    ),
    "/v1/selections/{selection_id}/nominations": lambda w: Call(
        f"/v1/selections/{w.nominating}/nominations",
        {"subject_id": w.d.member, "reason": "带头节水增收"},
        w.secretary,
        201,
    ),
    "/v1/selections/{selection_id}/stages": lambda w: Call(
        f"/v1/selections/{w.scoring}/stages", None, w.office, 201
    ),
    "/v1/selections/{selection_id}/stages/{stage}/decision": lambda w: Call(
        f"/v1/selections/{w.scored}/stages/1/decision", decision(w), w.d.committee, 200
    ),
    "/v1/selections/{selection_id}/notice": lambda w: Call(
        f"/v1/selections/{w.decided}/notice", None, w.office, 200
    ),
    "/v1/selections/{selection_id}/objections": lambda w: Call(
        f"/v1/selections/{w.noticed}/objections",
        {"subject_id": w.d.member, "summary": "另有群众反映问题"},
        w.as_("member", w.branch, w.d.secretary),
        201,
    ),
    "/v1/selections/{selection_id}/objections/{objection_id}/answer": lambda w: Call(
        f"/v1/selections/{w.noticed}/objections/{w.objection}/answer",
        {"answer": "经核查不属实", "upheld": False},
        w.d.committee,
        200,
    ),
    "/v1/selections/{selection_id}/commendation": lambda w: Call(
        f"/v1/selections/{w.commending}/commendation", None, w.d.committee, 200
    ),
    "/v1/townships/{township_id}/satisfaction-checks/closures": lambda w: Call(
        f"/v1/townships/{w.township}/satisfaction-checks/closures", None, w.office, 200
    ),
    "/v1/people/{rater_id}/erasure": lambda w: Call(
        f"/v1/people/{w.paper}/erasure", None, w.as_("county_admin", w.county), 201
    ),
    "/v1/ratings": lambda w: Call(
        "/v1/ratings",
        {
            "level": "township_rates_branches",
            "township_id": w.township,
            "period": "2027-B1",
            "results": [{"subject_id": w.branch, "grade": "excellent", "score": 96}],
        },
        w.d.committee,
        201,
    ),
}


def auth_cases(route: str) -> Iterator[Case]:
    yield unauthenticated(route)
    yield unauthenticated(route, "garbage bearer token", auth=GARBAGE)
    yield unauthenticated(route, "expired token", auth=EXPIRED)
    yield unauthenticated(route, "token signed with another key", auth=WRONG_KEY)


def bad_path(route: str, template: str, field: str) -> Case:
    return malformed(route, f"{field} not an id", field, path=lambda w: template)


def _cases() -> Iterator[Case]:
    r = "/v1/counties/{county_id}/evaluation-calendars"
    yield malformed(
        r, "no such date", "second_round_closes", body=with_(second_round_closes="2028-02-30")
    )
    yield malformed(r, "year before 2000", "year", body=with_(year=1999))
    yield malformed(
        r,
        "second round a year late",
        "second_round_closes",
        body=with_(second_round_closes="2029-01-05"),
    )
    yield malformed(
        r, "first round missing", "first_round_closes", body=without("first_round_closes")
    )
    yield from auth_cases(r)
    yield forbidden(r, "administrator of another county", lambda w: w.as_("county_admin", "gulang"))
    yield forbidden(r, "township office", lambda w: w.office)

    r = "/v1/rounds"
    yield malformed(r, "half 3", "half", body=with_(half=3))
    yield malformed(r, "both organisers", "body", body=with_(township_id="t-x"))
    yield malformed(r, "closes after the calendar", "closes_on", body=with_(closes_on="2027-07-11"))
    yield malformed(
        r, "subject not of the branch", "subject_ids.0", body=with_(subject_ids=["m-x"])
    )
    yield malformed(r, "unknown scale", "scale", body=with_(scale="stars"))
    yield malformed(r, "held with a meeting not known", "held_with", body=with_(held_with="x"))
    yield malformed(r, "unknown field", "weight", body=with_(weight=2))
    yield malformed(
        r,
        "custom scale with a grade twice",
        "custom_scale",
        body=with_(custom_scale={"name": "stars", "grades": [STAR, STAR]}),
    )
    yield malformed(r, "title of one character", "title", body=with_(title="评"))
    yield malformed(r, "a bell in the title", "title", body=with_(title="评议\u0007大会"))
    yield malformed(
        r,
        "custom grade labelled right to left",
        "custom_scale.grades.0.label",
        body=with_(custom_scale={"name": "stars", "grades": [{**STAR, "label": "\u202e★"}, STAR]}),
    )
    yield malformed(
        r,
        "custom grade named with a bell",
        "custom_scale.grades.0.grade",
        body=with_(custom_scale={"name": "stars", "grades": [{**STAR, "grade": "\u0007"}, STAR]}),
    )
    yield from auth_cases(r)
    yield forbidden(r, "the township office for members", lambda w: w.office)
    yield forbidden(r, "a member", lambda w: w.d.the_member)
    yield forbidden(r, "secretary of another branch", lambda w: w.as_("branch_secretary", "b-x"))

    r = "/v1/rounds/{round_id}/raters"
    yield malformed(
        r, "unknown rater kind", "raters.0.kind", body=with_(raters=[{"kind": "alien"}])
    )
    yield malformed(
        r,
        "a branch member rating a branch",
        "raters.0.kind",
        body=with_(raters=[{"kind": "branch_member"}]),
    )
    yield malformed(
        r,
        "member not in the township",
        "raters.0.member_id",
        body=with_(raters=[{"kind": "cadre", "member_id": "m-nobody"}]),
    )
    yield malformed(r, "no raters", "raters", body=with_(raters=[]))
    yield malformed(
        r,
        "a name in terminal colours",
        "raters.0.name",
        body=with_(raters=[{"kind": "public", "name": "\u001b[31m王小明"}]),
    )
    yield malformed(
        r,
        "phone of 5 digits",
        "raters.0.phone",
        body=with_(raters=[{"kind": "public", "phone": "12345"}]),
    )
    yield malformed(
        r,
        "ID number with a wrong check character",
        "raters.0.id_number",
        body=with_(raters=[{"kind": "public", "id_number": "110105194912310021"}]),
    )
    yield malformed(
        r,
        "personal data of a directory member",
        "raters.0.name",
        body=lambda w, b: {"raters": [{"kind": "cadre", "member_id": w.d.member, "name": "王"}]},
    )
    yield from auth_cases(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)

    r = "/v1/rounds/{round_id}/ballots"
    yield malformed(
        r,
        "no such grade",
        lambda w: f"grades.{w.branch}",
        body=lambda w, b: {"grades": {w.branch: "great"}},
    )
    yield malformed(r, "not a subject", "grades", body=with_(grades={"b-nobody": "satisfied"}))
    yield malformed(r, "no grades", "grades", body=with_(grades={}))
    yield from auth_cases(r)
    yield forbidden(r, "unregistered rater", lambda w: rater(w.servers, w.round_id, "rt-stranger"))
    yield forbidden(r, "rater of another round", lambda w: rater(w.servers, w.closing, w.web))
    yield forbidden(r, "township office", lambda w: w.office)

    r = "/v1/rounds/{round_id}/paper-ballots"
    yield malformed(
        r,
        "more ballots than participants",
        "body",
        body=lambda w, b: {**b, "ballots": b["ballots"] * 2},
    )
    yield malformed(r, "web is not paper", "channel", body=with_(channel="web"))
    yield malformed(
        r, "unregistered participant", "participants.0", body=with_(participants=["rt-x"])
    )
    yield from auth_cases(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)

    r = "/v1/rounds/{round_id}/closure"
    yield bad_path(r, "/v1/rounds/r!x/closure", "round_id")
    yield malformed(
        r,
        "Idempotency-Key of 201 characters",
        "Idempotency-Key",
        headers={"Idempotency-Key": "k" * 201},
    )
    yield from auth_cases(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "auditor", lambda w: w.as_("auditor"))

    r = "/v1/satisfaction-checks/{check_id}/raters"
    yield malformed(
        r, "member not in the township", "raters.0", body=with_(raters=[{"member_id": "m-x"}])
    )
    yield malformed(
        r,
        "personal data of a directory member",
        "raters.0.name",
        body=lambda w, b: {"raters": [{"member_id": w.d.member, "name": "王"}]},
    )
    yield malformed(
        r, "a phone that is not one", "raters.0.phone", body=with_(raters=[{"phone": "12-34"}])
    )
    yield malformed(r, "no raters", "raters", body=with_(raters=[]))
    yield from auth_cases(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)

    r = "/v1/satisfaction-checks/{check_id}/ballots"
    yield malformed(r, "no such grade", "grade", body=with_(grade="great"))
    yield malformed(r, "web ballot naming a rater", "rater_id", body=with_(rater_id="rt-x"))
    yield malformed(r, "unknown channel", "channel", body=with_(channel="phone"))
    yield from auth_cases(r)
    yield forbidden(r, "unregistered rater", lambda w: rater(w.servers, w.check_id, "rt-stranger"))
    yield forbidden(r, "rater of a round", lambda w: rater(w.servers, w.round_id, w.served))
    yield forbidden(r, "township office voting on the web", lambda w: w.office)

    r = "/v1/satisfaction-checks/{check_id}/closure"
    yield bad_path(r, "/v1/satisfaction-checks/c!x/closure", "check_id")
    yield from auth_cases(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)

    r = "/v1/satisfaction-checks/{check_id}/extension"
    yield bad_path(r, "/v1/satisfaction-checks/c!x/extension", "check_id")
    yield malformed(r, "not a date", "closes_on", body=with_(closes_on="2027-13-01"))
    yield malformed(r, "a date already past", "closes_on", body=with_(closes_on="2027-01-05"))
    yield malformed(r, "no date", "closes_on", body=without("closes_on"))
    yield from auth_cases(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)

    r = "/v1/counties/{county_id}/satisfaction-check-terms"
    yield malformed(r, "a threshold above 1", "threshold", body=with_(threshold=1.5))
    yield malformed(r, "a window of no days", "window_days", body=with_(window_days=0))
    yield malformed(r, "no year", "year", body=without("year"))
    yield from auth_cases(r)
    yield forbidden(r, "township office", lambda w: w.office)
    yield forbidden(r, "administrator of another county", lambda w: w.as_("county_admin", "c-x"))

    r = "/v1/townships/{township_id}/satisfaction-checks/closures"
    yield bad_path(r, "/v1/townships/t!x/satisfaction-checks/closures", "township_id")
    yield from auth_cases(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "township committee", lambda w: w.d.committee)

    r = "/v1/ratings"
    yield malformed(r, "monthly period for branches", "period", body=with_(period="2027-03"))
    yield malformed(r, "month 13", "period", body=with_(period="2027-13"))
    yield malformed(r, "no township", "body", body=without("township_id"))
    yield malformed(
        r,
        "no such grade",
        "results.0.grade",
        body=lambda w, b: {**b, "results": [{**b["results"][0], "grade": "great"}]},
    )
    yield malformed(
        r,
        "not a branch of the township",
        "results.0.subject_id",
        body=lambda w, b: {**b, "results": [{**b["results"][0], "subject_id": "b-x"}]},
    )
    yield malformed(
        r,
        "score over 100",
        "results.0.score",
        body=lambda w, b: {**b, "results": [{**b["results"][0], "score": 101}]},
    )
    yield from auth_cases(r)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)
    yield forbidden(r, "township office (the committee rates branches)", lambda w: w.office)
    yield forbidden(
        r,
        "committee of another township",
        lambda w: w.as_("township_committee", w.d.other_township),
    )

    r = "/v1/people/{rater_id}/erasure"
    yield bad_path(r, "/v1/people/rt!x/erasure", "rater_id")
    yield malformed(
        r,
        "Idempotency-Key of 201 characters",
        "Idempotency-Key",
        headers={"Idempotency-Key": "k" * 201},
    )
    yield from auth_cases(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)  # its own may
    yield forbidden(r, "administrator of another county", lambda w: w.as_("county_admin", "gulang"))
    yield forbidden(r, "auditor of another county", lambda w: w.as_("auditor", "gulang"))
    yield forbidden(r, "the rater themself", lambda w: rater(w.servers, w.round_id, w.paper))

    yield from _invitation_cases()
    yield from _selection_cases()


def _invitation_cases() -> Iterator[Case]:
    for scope, scope_id in (("rounds", "round_id"), ("satisfaction-checks", "check_id")):

        def where(w: World, scope_id: str = scope_id) -> str:
            return str(getattr(w, scope_id))

        for part in ("invitations", "invitation-sheet"):
            r = f"/v1/{scope}/{{scope_id}}/{part}"
            yield bad_path(r, f"/v1/{scope}/x!y/{part}", "scope_id")
            yield malformed(
                r, "a rater id that is no id", "rater_ids.0", body=with_(rater_ids=["rt!"])
            )
            yield malformed(r, "by SMS: perhaps", "by_sms", body=with_(by_sms="perhaps"))
            yield malformed(r, "unknown field", "codes", body=with_(codes=["ABCD"]))
            yield from auth_cases(r)
            yield forbidden(r, "branch secretary", lambda w: w.secretary)
            yield forbidden(r, "office of another township", lambda w: w.other_office)
        r = f"/v1/{scope}/{{scope_id}}/invitations/{{rater_id}}/reissue"
        yield malformed(
            r,
            "rater id not an id",
            "rater_id",
            path=lambda w, scope=scope, where=where: (
                f"/v1/{scope}/{where(w)}/invitations/rt!x/reissue"
            ),
        )
        yield malformed(r, "unknown field", "code", body=with_(code="ABCD"))
        yield from auth_cases(r)
        yield forbidden(r, "branch secretary", lambda w: w.secretary)
        yield forbidden(r, "office of another township", lambda w: w.other_office)


def _selection_cases() -> Iterator[Case]:
    r = "/v1/selections"
    yield malformed(
        r, "a village is not a subject kind", "subject_kind", body=with_(subject_kind="village")
    )
    yield malformed(
        r, "commendation in September", "commendation_on", body=with_(commendation_on="2027-09-01")
    )
    yield malformed(r, "notice of 3 days", "notice_days", body=with_(notice_days=3))
    yield malformed(r, "title missing", "title", body=without("title"))
    yield malformed(r, "no township named", "township_id", body=without("township_id"))
    yield malformed(
        r,
        "a county selection naming a township",
        "township_id",
        body=with_(level="county", county_id="minqin"),
    )
    yield from auth_cases(r)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)
    yield forbidden(r, "office of another township", lambda w: w.other_office)

    r = "/v1/selections/{selection_id}/formula"
    yield malformed(r, "weights adding up to 0.9", "weights", body=with_(weights={"ratings": 0.9}))
    yield malformed(r, "quotas growing", "quotas", body=with_(quotas=[1, 2]))
    yield malformed(r, "no quotas", "quotas", body=with_(quotas=[]))
    yield malformed(r, "when missing: ignore", "when_missing", body=with_(when_missing="ignore"))
    points = {"excellent": 100, "qualified": 85, "basically_qualified": 60, "unqualified": 0}
    yield malformed(
        r,
        "review points for some grades only",
        "review_points",
        body=with_(review_points={"excellent": 100, "qualified": 80}),
    )
    yield malformed(
        r,
        "review points above 100",
        "review_points.excellent",
        body=with_(review_points=points | {"excellent": 120}),
    )
    yield from auth_cases(r)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)
    yield forbidden(r, "office of another township", lambda w: w.other_office)

    r = "/v1/selections/{selection_id}/nominations"
    yield malformed(r, "not a member of the township", "subject_id", body=with_(subject_id="m-x"))
    yield malformed(r, "empty reason", "reason", body=with_(reason=""))
    yield malformed(r, "reason in an isolate", "reason", body=with_(reason="\u2067群众公认"))
    yield from auth_cases(r)
    yield forbidden(r, "the member themself", lambda w: w.d.the_member)
    yield forbidden(r, "secretary of another branch", lambda w: w.as_("branch_secretary", "b-x"))
    yield forbidden(r, "office of another township", lambda w: w.other_office)

    for r in ("/v1/selections/{selection_id}/stages", "/v1/selections/{selection_id}/notice"):
        yield bad_path(r, r.replace("{selection_id}", "s!x"), "selection_id")
        yield malformed(
            r,
            "Idempotency-Key of 201 characters",
            "Idempotency-Key",
            headers={"Idempotency-Key": "k" * 201},
        )
        yield from auth_cases(r)
        yield forbidden(r, "branch secretary", lambda w: w.secretary)
        yield forbidden(r, "office of another township", lambda w: w.other_office)

    r = "/v1/selections/{selection_id}/stages/{stage}/decision"
    yield bad_path(r, "/v1/selections/s!x/stages/1/decision", "selection_id")
    yield bad_path(r, "/v1/selections/s-x/stages/9/decision", "stage")
    yield malformed(r, "no decisions", "decisions", body=with_(decisions=[]))
    yield malformed(
        r,
        "not a candidate of the stage",
        "decisions.0.subject_id",
        body=lambda w, b: {"decisions": [{**b["decisions"][0], "subject_id": "m-x"}]},
    )
    yield malformed(
        r,
        "no reason",
        "decisions.0.reason",
        body=lambda w, b: {"decisions": [{**b["decisions"][0], "reason": ""}]},
    )
    yield from auth_cases(r)
    yield forbidden(r, "township office (the committee decides)", lambda w: w.office)
    yield forbidden(
        r,
        "committee of another township",
        lambda w: w.as_("township_committee", w.d.other_township),
    )

    r = "/v1/selections/{selection_id}/objections"
    yield malformed(r, "not on the notice", "subject_id", body=with_(subject_id="m-x"))
    yield malformed(r, "summary missing", "summary", body=without("summary"))
    yield from auth_cases(r)
    yield forbidden(r, "auditor", lambda w: w.as_("auditor"))
    yield forbidden(r, "integration", lambda w: w.as_("integration"))
    # S3: only the township's people, its office and the county above it object
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(
        r,
        "committee of another township",
        lambda w: w.as_("township_committee", w.d.other_township),
    )
    yield forbidden(r, "member of no branch here", lambda w: w.as_("member", "b-x", "m-x"))
    yield forbidden(
        r,
        "the branch's secretary role, not its appointed secretary",
        lambda w: w.as_("branch_secretary", w.branch, "m-former"),
    )
    yield forbidden(r, "administrator of another county", lambda w: w.as_("county_admin", "gulang"))
    yield forbidden(r, "a public rater's token", lambda w: w.as_("rater", w.round_id, "rt-x"))

    r = "/v1/selections/{selection_id}/objections/{objection_id}/answer"
    yield malformed(r, "upheld maybe", "upheld", body=with_(upheld="maybe"))
    yield malformed(r, "answer missing", "answer", body=without("answer"))
    yield malformed(
        r,
        "no such objection",
        "objection_id",
        path=lambda w: f"/v1/selections/{w.noticed}/objections/o-nope/answer",
    )
    yield from auth_cases(r)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)
    yield forbidden(
        r,
        "committee of another township",
        lambda w: w.as_("township_committee", w.d.other_township),
    )

    r = "/v1/selections/{selection_id}/commendation"
    yield bad_path(r, "/v1/selections/s!x/commendation", "selection_id")
    yield from auth_cases(r)
    yield forbidden(r, "township office (the committee issues it)", lambda w: w.office)
    yield forbidden(
        r,
        "committee of another township",
        lambda w: w.as_("township_committee", w.d.other_township),
    )


CASES = list(_cases())
VOTING_PAGE = {"/vote", "/vote/review", "/vote/back", "/vote/ballot"}


@pytest.fixture(scope="module")
async def world(servers: Servers) -> AsyncIterator[World]:
    async with pledge_and_evaluation(servers, WORLD_START) as (pledge, evaluation, clock):
        yield await build_world(pledge, evaluation, servers, clock)


def test_the_table_is_well_formed() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for case in CASES:
        assert case.route in GOOD, f"{case.id}: no good request for {case.route}"
        assert case.field is not None if case.kind == MALFORMED else case.auth is not None


async def test_every_state_changing_route_has_bad_input_cases(world: World) -> None:
    """Every state-changing route the service's own routers add (platform routes mounted by
    shared/ for every service, such as audit checkpoints, are the platform's tests' concern)."""
    # the public voting page's forms answer in HTML, in Chinese, and append nothing on bad
    # input: tests/unit/test_voting.py and tests/e2e/test_evaluation_voting.py hold its cases
    routes = state_changing_routes(EVALUATION.routers) - VOTING_PAGE
    assert routes <= set(world.service.app.openapi()["paths"])  # and the app serves them
    assert len(routes) >= 18, routes
    assert routes == set(GOOD), sorted(routes ^ set(GOOD))
    for kind in (MALFORMED, UNAUTHENTICATED, FORBIDDEN):
        covered = {case.route for case in CASES if case.kind == kind}
        assert not routes - covered, f"routes without a {kind} case: {sorted(routes - covered)}"


async def test_the_good_requests_are_accepted(servers: Servers) -> None:
    """The control: in a world built like the bad cases' one, each good request appends."""
    async with pledge_and_evaluation(servers, WORLD_START) as (pledge, evaluation, clock):
        w = await build_world(pledge, evaluation, servers, clock)
        for route, good in GOOD.items():
            call = good(w)
            before = await event_count(evaluation)
            response = await evaluation.client.post(call.path, json=call.body, headers=call.auth)
            assert response.status_code == call.status, f"good {route}: {response.text}"
            assert await event_count(evaluation) > before, f"good {route} appended no event"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_bad_input_is_refused_and_appends_nothing(world: World, case: Case) -> None:
    good = GOOD[case.route](world)
    path = case.path(world) if case.path else good.path  # type: ignore[arg-type]
    headers = {**(case.auth(world, good.auth) if case.auth else good.auth), **case.headers}  # type: ignore[arg-type]
    request: dict[str, Any] = {"headers": headers}
    if case.content is not None:
        request["content"] = case.content
    elif case.body is not None:
        request["json"] = case.body(world, good.body)  # type: ignore[arg-type]
    elif good.body is not None:
        request["json"] = good.body

    before = await event_count(world.service)
    response = await world.service.client.post(path, **request)
    after = await event_count(world.service)

    expected = case.field(world) if callable(case.field) else case.field  # type: ignore[arg-type]
    assert_refused(case.id, response, after - before, case.statuses, expected)
