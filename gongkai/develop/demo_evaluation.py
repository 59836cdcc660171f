"""The demo county's evaluation (E1–E6), loaded through the evaluation service's HTTP API
after the pledge demo (gongkai/develop/demo.py): per township, an open round on its branches
(the township's members registered as raters, the public ones imported from the rater
workbook) with web ballots (invited, each voting with their code) and paper ballots (turnout
to look at), a closed round on one branch's members (invited, voting with their codes;
published results), the township's bimonthly rating of branches and each branch's monthly
rating of members, each of the last period that has ended; the township's annual selection
of members with the first branch's nominations in and its first stage scored for the
committee to decide (S1–S2); and a satisfaction check on one of the first branch's items,
reported done and verified, with the people it served registered and a few of them answered
(E3a)."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import httpx

from gongkai.develop.demo import COUNTY, DemoApi, demo_branch
from shared.auth import LocalSigningKey

WEB_GRADES = ["satisfied", "satisfied", "mostly_satisfied", "dissatisfied", "satisfied"]
APPRAISAL = ["excellent", "qualified", "qualified", "basically_qualified"]
# the public raters of each township's round (name, phone): sealed per person when registered
PUBLIC_RATERS = (
    ("王淑珍", "13900000101"),
    ("刘福贵", "13900000102"),
    ("陈玉梅", "13900000103"),
    ("张守田", "13900000104"),
    ("李桂兰", "13900000105"),
    ("赵长顺", "13900000106"),
)
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
    return response.status_code == 200 and bool(response.json()["rows"])


def load_evaluation_demo(
    pledge_url: str, evaluation_url: str, key: LocalSigningKey, today: date
) -> dict[str, int]:
    pledge, api = DemoApi(pledge_url, key), DemoApi(evaluation_url, key)
    county = pledge.get(f"/v1/counties/{COUNTY[0]}").json()
    counts = {"rounds": 0, "raters": 0, "ballots": 0, "ratings": 0, "selections": 0, "checks": 0}
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
        _selection(api, copy, today, counts)
        _check(api, pledge, copy, counts)
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
    api.post(f"/v1/rounds/{round_id}/raters", {"raters": entries}, office)
    # the public raters from the village meetings' list, imported from the rater workbook
    rows = [(name, phone, "", "群众", "", "public") for name, phone in PUBLIC_RATERS]
    api.imported(f"/v1/rounds/{round_id}/raters", {"评议人": rows}, "群众评议人名单.xlsx", office)
    listed = api.http.get(f"/v1/rounds/{round_id}/raters", headers=office).raise_for_status()
    raters = listed.json()["raters"]
    counts["raters"] += len(raters)
    subjects = [b["branch_id"] for b in copy["branches"]]
    public = [r["rater_id"] for r in raters if r["rater_kind"] == "public"]
    on_the_web = {  # invited, and voting from a phone with their codes
        rater_id: {s: WEB_GRADES[(index + i) % len(WEB_GRADES)] for i, s in enumerate(subjects)}
        for index, rater_id in enumerate(public[:3])
    }
    counts["ballots"] += _voted_with_codes(api, f"/v1/rounds/{round_id}", on_the_web, office)
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
    branch = _first(copy)
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
    ballots = {
        member: {s: APPRAISAL[(index + i) % len(APPRAISAL)] for i, s in enumerate(subjects)}
        for index, member in enumerate(rater_ids)
    }
    counts["ballots"] += _voted_with_codes(api, f"/v1/rounds/{round_id}", ballots, secretary)
    api.post(f"/v1/rounds/{round_id}/closure", None, secretary)


def _voted_with_codes(
    api: DemoApi, target: str, ballots: dict[str, dict[str, str]], organiser: dict[str, str]
) -> int:
    """Web ballots as people cast them (issue 17): the organiser invites these raters (the
    codes in the answer), each votes on the public voting page with their code; a round's
    or check's turnout then counts no web vote without an invitation. How many voted."""
    issued = api.post(f"{target}/invitations", {"rater_ids": list(ballots)}, organiser)
    forms = ballot_forms(target, issued, ballots)
    for form in forms:
        vote_taken(target, api.http.post("/vote/ballot", data=form))
    return len(forms)


def ballot_forms(
    target: str, issued: dict[str, Any], ballots: dict[str, dict[str, str]]
) -> list[dict[str, str]]:
    """The public voting page's form for each invitation `issued` (the answer to
    `{target}/invitations`): its code, the round or check, and that rater's grades."""
    scope_id = target.rsplit("/", 1)[-1]
    return [
        {"code": slip["code"], "scope_id": scope_id}
        | {f"grade.{s}": grade for s, grade in ballots[slip["rater_id"]].items()}
        for slip in issued["invitations"]
    ]


def vote_taken(target: str, response: httpx.Response) -> None:
    """A vote on the voting page went in (it says 已提交), or the generated data stops."""
    if response.status_code >= 400 or "已提交" not in response.text:
        raise RuntimeError(f"a generated vote in {target}: {response.status_code}")


def ended(today: date) -> tuple[str, str]:
    """The last month and the last two months that have ended by `today` ("2026-11",
    "2026-B5" on 2026-12-08): what the demo's branches and township have rated. A selection
    counts a rating when the period it covers ends within its window (S2), so a rating of
    the month still running would be no evidence for the demo's selection."""
    month = today.replace(day=1) - timedelta(days=1)
    bimonth = date(today.year, today.month - (today.month + 1) % 2, 1) - timedelta(days=1)
    return f"{month:%Y-%m}", f"{bimonth.year}-B{bimonth.month // 2}"


def _ratings(api: DemoApi, copy: dict[str, Any], today: date, counts: dict[str, int]) -> None:
    township = copy["township_id"]
    month, bimonth = ended(today)
    api.post(
        "/v1/ratings",
        {
            "level": "township_rates_branches",
            "township_id": township,
            "period": bimonth,
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
                "period": month,
                "results": [
                    {"subject_id": m["member_id"], "grade": grade, "score": SCORES[grade]}
                    for m, grade in zip(branch["members"], APPRAISAL[1:] * 5, strict=False)
                ],
            },
            api.auth("branch_secretary", branch["branch_id"], branch["secretary_id"]),
        )
        counts["ratings"] += 1


NOMINATIONS = ("带头推广节水灌溉, 群众公认", "压沙造林冲在前面", "热心为留守老人办实事")


def _first(copy: dict[str, Any]) -> dict[str, Any]:
    """The township's first demo branch (whose secretary and member sign in), as copied."""
    named = demo_branch(copy["name"], 0)
    return next((b for b in copy["branches"] if b["name"] == named), copy["branches"][0])


def _selection(api: DemoApi, copy: dict[str, Any], today: date, counts: dict[str, int]) -> None:
    township = copy["township_id"]
    office = api.auth("township_office", township)
    branch = _first(copy)
    # commended around July 1 (S3): this year's, or after the summer next year's
    year = today.year if today <= date(today.year, 7, 15) else today.year + 1
    opened = {"township_id": township, "year": year, "subject_kind": "member"}
    opened["title"] = f"{year}年度{copy['name']}优秀共产党员评选"
    selection_id = api.post("/v1/selections", opened, office)["id"]
    counts["selections"] += 1
    formula: dict[str, Any] = {"weights": {"ratings": 0.4, "evaluation": 0.4, "reviews": 0.2}}
    formula |= {"when_missing": "reweight", "quotas": [2]}
    # the year to today: the demo's records are made today (the default window, the twelve
    # months before the opening, would hold none of them); its ratings are of last month
    formula |= {"window_starts_on": str(today - timedelta(days=364)), "window_ends_on": str(today)}
    api.post(f"/v1/selections/{selection_id}/formula", formula, office)
    secretary = api.auth("branch_secretary", branch["branch_id"], branch["secretary_id"])
    for member, reason in zip(branch["members"], NOMINATIONS, strict=False):
        api.post(
            f"/v1/selections/{selection_id}/nominations",
            {"subject_id": member["member_id"], "reason": reason},
            secretary,
        )
    api.post(f"/v1/selections/{selection_id}/stages", None, office)  # scored: the committee's


def _check(api: DemoApi, pledge: DemoApi, copy: dict[str, Any], counts: dict[str, int]) -> None:
    """The first branch's own item with progress reported: done, solved, verified; the check
    the evaluation service then opens gets the people it served and a few answers."""
    branch = _first(copy)
    rows = pledge.get(f"/v1/ledger?branch_id={branch['branch_id']}&limit=50").json()["rows"]
    found = [r for r in rows if r["pledger_kind"] == "branch" and r["progress_percent"]]
    if not found:
        return
    row = found[0]
    office = api.auth("township_office", copy["township_id"])
    secretary = api.auth("branch_secretary", branch["branch_id"], branch["secretary_id"])
    item = f"/v1/pledges/{row['pledge_id']}/items/{row['item_id']}"
    pledge.post(f"{item}/done", {"summary": "工程已完工通水, 群众验收"}, secretary)
    pledge.post(f"{item}/problem-solved", {"note": "渠道渗漏问题已解决"}, office)
    pledge.post(f"{item}/implementation-verified", {"note": "镇创先办现场核查到位"}, office)
    deadline = time.monotonic() + 60
    while not (checks := api.get(f"/v1/satisfaction-checks?item_id={row['item_id']}").json()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no satisfaction check opened for {row['title']}")
        time.sleep(0.2)
    check_id = checks[0]["check_id"]
    served = [{"name": "张桂兰", "phone": "13912345678"}, {}, {}, {}, {}, {}]
    rater_ids = api.post(f"/v1/satisfaction-checks/{check_id}/raters", {"raters": served}, office)[
        "rater_ids"
    ]
    web = dict(
        zip(rater_ids[:2], ({"item": "satisfied"}, {"item": "mostly_satisfied"}), strict=True)
    )
    _voted_with_codes(api, f"/v1/satisfaction-checks/{check_id}", web, office)
    api.post(  # one on paper, entered by the office
        f"/v1/satisfaction-checks/{check_id}/ballots",
        {"grade": "satisfied", "rater_id": rater_ids[2], "channel": "paper"},
        office,
    )
    counts["checks"] += 1
