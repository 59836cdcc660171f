"""The demo county's evaluation (E1–E6), loaded through the evaluation service's HTTP API
after the pledge demo (gongkai/develop/demo.py): per township, an open round on its branches
with web and paper ballots (turnout to look at), a closed round on one branch's members
(published results), the township's bimonthly rating of branches and each branch's monthly
rating of members."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import httpx

from gongkai.develop.demo import COUNTY, DemoApi
from shared.auth import LocalSigningKey

WEB_GRADES = ["satisfied", "satisfied", "mostly_satisfied", "dissatisfied", "satisfied"]
APPRAISAL = ["excellent", "qualified", "qualified", "basically_qualified"]
SCORES = {"excellent": 95.0, "qualified": 85.0, "basically_qualified": 65.0}


def _wait_for_copy(api: DemoApi, township: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    """The evaluation service learns the directory from pledge events (D2): wait for it."""
    wanted = {b["branch_id"] for b in township["branches"]}
    deadline = time.monotonic() + timeout
    while True:
        response = api.get(f"/v1/directory/townships/{township['township_id']}")
        if response.status_code == 200:
            copy: dict[str, Any] = response.json()
            branches = copy["branches"]
            if {b["branch_id"] for b in branches} >= wanted and all(
                b["secretary_id"] and b["members"] for b in branches
            ):
                return copy
        if time.monotonic() > deadline:
            raise RuntimeError(f"the evaluation service has no copy of {township['name']} yet")
        time.sleep(0.2)


def evaluation_demo_loaded(evaluation_url: str) -> bool:
    """Whether the evaluation demo is already there (it publishes ratings)."""
    response = httpx.get(f"{evaluation_url}/v1/ratings", timeout=30)
    return response.status_code == 200 and bool(response.json())


def load_evaluation_demo(
    pledge_url: str, evaluation_url: str, key: LocalSigningKey, today: date
) -> dict[str, int]:
    pledge, api = DemoApi(pledge_url, key), DemoApi(evaluation_url, key)
    county = pledge.get(f"/v1/counties/{COUNTY[0]}").json()
    counts = {"rounds": 0, "raters": 0, "ballots": 0, "ratings": 0}
    year = today.year
    admin = api.auth("county_admin", COUNTY[0])
    api.post(
        f"/v1/counties/{COUNTY[0]}/evaluation-calendars",
        {
            "year": year,
            "first_round_closes": f"{year}-07-10",
            "second_round_closes": f"{year + 1}-01-05",
        },
        admin,
    )
    half = 1 if today <= date(year, 7, 10) else 2
    for summary in county["townships"]:
        township = pledge.get(f"/v1/townships/{summary['township_id']}").json()
        copy = _wait_for_copy(api, township)
        _branch_round(api, copy, year, half, today, counts)
        _member_round(api, copy, year, half, today, counts)
        _ratings(api, copy, today, counts)
    return counts


def _branch_round(
    api: DemoApi, copy: dict[str, Any], year: int, half: int, today: date, counts: dict[str, int]
) -> None:
    township = copy["township_id"]
    office = api.auth("township_office", township)
    round_id = api.post(
        "/v1/rounds",
        {
            "title": f"{year}年{'上' if half == 1 else '下'}半年{copy['name']}群众评议",
            "year": year,
            "half": half,
            "township_id": township,
            "opens_on": str(today),
        },
        office,
    )["id"]
    counts["rounds"] += 1
    members = [m for b in copy["branches"] for m in b["members"]]
    entries = [{"kind": "township_member", "member_id": m["member_id"]} for m in members]
    entries += [{"kind": "public", "organisation_id": "public"} for _ in range(6)]
    rater_ids = api.post(f"/v1/rounds/{round_id}/raters", {"raters": entries}, office)["rater_ids"]
    counts["raters"] += len(rater_ids)
    subjects = [b["branch_id"] for b in copy["branches"]]
    public = rater_ids[len(members) :]
    for index, rater_id in enumerate(public[:3]):  # on the web
        grades = {s: WEB_GRADES[(index + i) % len(WEB_GRADES)] for i, s in enumerate(subjects)}
        api.post(
            f"/v1/rounds/{round_id}/ballots",
            {"grades": grades},
            api.auth("rater", round_id, rater_id),
        )
        counts["ballots"] += 1
    stack = public[3:5]  # on paper at the village meeting, entered by the office
    api.post(
        f"/v1/rounds/{round_id}/paper-ballots",
        {
            "channel": "paper",
            "participants": stack,
            "ballots": [
                {s: "satisfied" for s in subjects},
                {s: "mostly_satisfied" for s in subjects},
            ],
        },
        office,
    )
    counts["ballots"] += len(stack)


def _member_round(
    api: DemoApi, copy: dict[str, Any], year: int, half: int, today: date, counts: dict[str, int]
) -> None:
    branch = copy["branches"][0]
    secretary = api.auth("branch_secretary", branch["branch_id"], branch["secretary_id"])
    round_id = api.post(
        "/v1/rounds",
        {
            "title": f"{branch['name']}党员评议",
            "year": year,
            "half": half,
            "branch_id": branch["branch_id"],
            "opens_on": str(today),
        },
        secretary,
    )["id"]
    counts["rounds"] += 1
    entries = [{"kind": "branch_member", "member_id": m["member_id"]} for m in branch["members"]]
    rater_ids = api.post(f"/v1/rounds/{round_id}/raters", {"raters": entries}, secretary)[
        "rater_ids"
    ]
    counts["raters"] += len(rater_ids)
    subjects = [m["member_id"] for m in branch["members"]]
    for index, member in enumerate(rater_ids):
        grades = {s: APPRAISAL[(index + i) % len(APPRAISAL)] for i, s in enumerate(subjects)}
        api.post(
            f"/v1/rounds/{round_id}/ballots",
            {"grades": grades},
            api.auth("member", branch["branch_id"], member),
        )
        counts["ballots"] += 1
    api.post(f"/v1/rounds/{round_id}/closure", None, secretary)


def _ratings(api: DemoApi, copy: dict[str, Any], today: date, counts: dict[str, int]) -> None:
    township = copy["township_id"]
    api.post(
        "/v1/ratings",
        {
            "level": "township_rates_branches",
            "township_id": township,
            "period": f"{today.year}-B{(today.month + 1) // 2}",
            "results": [
                {"subject_id": b["branch_id"], "grade": grade, "score": SCORES[grade]}
                for b, grade in zip(copy["branches"], APPRAISAL * 3, strict=False)
            ],
        },
        api.auth("township_committee", township),  # the committee rates its branches
    )
    counts["ratings"] += 1
    for branch in copy["branches"]:
        api.post(
            "/v1/ratings",
            {
                "level": "branch_rates_members",
                "branch_id": branch["branch_id"],
                "period": f"{today:%Y-%m}",
                "results": [
                    {"subject_id": m["member_id"], "grade": grade, "score": SCORES[grade]}
                    for m, grade in zip(branch["members"], APPRAISAL[1:] * 5, strict=False)
                ],
            },
            api.auth("branch_secretary", branch["branch_id"], branch["secretary_id"]),
        )
        counts["ratings"] += 1
