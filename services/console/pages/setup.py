"""The county's frame, for its administrator: townships (established, their head appointed),
the pledge calendar (drafting and publication deadlines per year) and the categories a
pledge's items are drafted in, per kind of branch (the pledge service's directory); a year's
evaluation calendar (the rounds' closing dates, E4) and satisfaction-check terms (threshold
and window, P10c) at the evaluation service; and the year's deadlines the notification
service reminds people of (N3)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.pages.accounts import county_of, submit
from services.console.pages.picker import ID, Found, find, matching, source, typed
from services.console.pages.pledges import this_year
from services.console.web import COUNTY_TIME, Desk, Signed, form_rows

router = APIRouter()
PATHS = {"township": "townships", "calendar": "calendars", "categories": "categories"}
KINDS = {"village": "村党组织", "agency": "机关党组织", "school": "学校党组织"}


# the evaluation service's yearly settings: the form's name → its path under the county
EVALUATION = {"evaluation": "evaluation-calendars", "terms": "satisfaction-check-terms"}
Year = Annotated[int | None, Query(ge=2000, le=2100)]


async def evaluation_year(desk: Desk, county_id: str, year: int) -> dict[str, Any] | None:
    """The county's evaluation calendar (`evaluation`: the rounds' closing dates, E4) and
    satisfaction-check terms (`terms`, P10c) for the year, each the default until set; None
    when the evaluation service is not reached (the page is shown without them)."""
    try:
        return {
            name: await desk.get("evaluation", f"/v1/counties/{county_id}/{path}/{year}")
            for name, path in EVALUATION.items()
        }
    except Refused:
        return None


@source("people")
async def people_found(desk: Desk, q: str, params: Mapping[str, str]) -> Found:
    """The county's people registered here (a head is rarely a branch's member) whose name
    holds `q`, as the identity service lets the county administrator see them."""
    found = await desk.get(
        "identity", "/v1/people", county_id=county_of(desk), name=q or None, limit=200
    )
    rows = [(p["person_id"], p["name"]) for p in found["items"] if p["source"] == "grant"]
    return matching(rows, q, filtered=True)


@router.get("/setup")
async def setup(desk: Signed, year: Year = None) -> Response:
    return await _setup(desk, year or this_year())


async def _setup(
    desk: Desk,
    year: int,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
    sent: str = "",
) -> Response:
    county_id = county_of(desk)
    county = await desk.get("pledge", f"/v1/counties/{county_id}")
    yearly = await evaluation_year(desk, county_id, year)
    return desk.form_page(
        "setup.html",
        refused,
        filled,
        sent=sent,
        year=year,
        yearly=yearly,
        county=county,
        people=await find(desk, "people", typed(desk, "person_id"), await named(desk, filled)),
        townships=[(t["township_id"], t["name"]) for t in county["townships"]],
        kinds=list(KINDS.items()),
        kind_names=KINDS,
    )


async def named(desk: Desk, filled: dict[str, str] | None) -> tuple[str, str] | None:
    """The person a refused form chose, with their name, kept on the list."""
    chosen = (filled or {}).get("person_id", "")
    if not ID.match(chosen):
        return None
    try:
        return chosen, (await desk.get("identity", f"/v1/people/{chosen}"))["name"]
    except Refused:
        return None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("，", "\n").splitlines() if line.strip()]


async def _head(desk: Desk, form: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """Who heads the township: a person the identity service knows, or a new one (a new
    person id; the identity service opens their account from the directory's event)."""
    chosen = form.get("person_id", "")
    name = form.get("head_name", "").strip()
    if chosen:
        name = name or (await desk.get("identity", f"/v1/people/{chosen}"))["name"]
    # a new person's id comes with the form (made when it was shown), so the same form sent
    # twice is the same request and appends once
    person_id = chosen or form.get("new_person_id", "") or f"p-{secrets.token_hex(6)}"
    return f"/v1/townships/{form.get('township_id', '')}/head", {
        "person_id": person_id,
        "name": name,
    }


def _yearly(what: str, form: dict[str, str]) -> dict[str, Any]:
    """The evaluation calendar's or the check terms' body, as typed (the service checks it)."""
    fields = (
        ("first_round_closes", "second_round_closes")
        if what == "evaluation"
        else ("threshold", "window_days")
    )
    return {"year": form.get("year", "").strip()} | {
        name: form.get(name, "").strip() or None for name in fields
    }


@router.post("/setup/{what}")
async def change(
    what: Literal["township", "head", "calendar", "categories", "evaluation", "terms"],
    desk: Signed,
) -> Response:
    form = await desk.form()
    county_id = county_of(desk)
    service = "evaluation" if what in EVALUATION else "pledge"
    path = f"/v1/counties/{county_id}/{PATHS.get(what) or EVALUATION.get(what, '')}"
    year = form.get("year", "")
    shown_year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else this_year()
    body: dict[str, Any]
    if what in EVALUATION:
        body = _yearly(what, form)
    elif what == "township":
        body = {"name": form.get("name", "").strip()}
    elif what == "head":
        path, body = await _head(desk, form)
    elif what == "calendar":
        body = {k: form.get(k) or None for k in ("drafting_deadline", "publication_deadline")}
        body["year"] = form.get("year", "")
    else:
        body = {"kind": form.get("kind", ""), "categories": _lines(form.get("categories", ""))}

    async def again(refused: Refused, filled: dict[str, str]) -> Response:
        if what == "head" and "name" in refused.fields:  # the head's name, not a township's
            refused.fields["head_name"] = refused.fields.pop("name")
        return await _setup(desk, shown_year, refused, filled, what)

    done = f"/setup?year={shown_year}" if what in EVALUATION else "/setup"
    return await submit(desk, service, path, body, form, done=done, again=again)


# deadlines whose dates other services own (the pledge calendar, the evaluation rounds): a
# reminder calendar tunes their title and how early to remind, not their day
OWNED = ("drafting", "publication", "evaluation_round")


@router.get("/reminders")
async def reminders(
    desk: Signed,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    every: Annotated[bool, Query(alias="all")] = False,  # 全部展开: every month open
) -> Response:
    return await _reminders(desk, year or this_year(), every=every)


async def _reminders(
    desk: Desk,
    year: int,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
    every: bool = False,
) -> Response:
    county_id = county_of(desk)
    calendar = await desk.get("notification", f"/v1/counties/{county_id}/calendars/{year}")
    return desk.form_page(
        "reminders.html",
        refused,
        filled,
        year=year,
        months=by_month(calendar["deadlines"], refused, every),
        owned=OWNED,
        every=every,
    )


def by_month(
    deadlines: list[dict[str, Any]], refused: Refused | None, every: bool = False
) -> list[dict[str, Any]]:
    """The year's deadlines by the month they fall due in (a phone shows one month at a time):
    each month's rows with their place in the form (`deadlines.<n>.…`, the whole calendar is
    sent at once), open if it holds the next deadline or a refused row (or `every`)."""
    today = datetime.now(COUNTY_TIME).date().isoformat()
    upcoming = next((d["due_on"][:7] for d in deadlines if d["due_on"] >= today), None)
    fields = refused.fields if refused else {}
    wrong = {k.split(".")[1] for k in fields if k.startswith("deadlines.")}
    months: dict[str, dict[str, Any]] = {}
    for n, d in enumerate(deadlines):
        month = d["due_on"][:7]
        found = months.setdefault(
            month,
            {"month": month, "rows": [], "next": month == upcoming, "open": every},
        )
        found["rows"].append((n, d))
        found["open"] = found["open"] or found["next"] or str(n) in wrong
    return list(months.values())


def deadlines_of(form: dict[str, str]) -> list[dict[str, str]]:
    """The form's rows (`deadlines.<n>.<field>`), in their order, as the service takes them."""
    return form_rows(form, "deadlines")


@router.post("/reminders")
async def set_reminders(desk: Signed, year: Annotated[int, Query(ge=2000, le=2100)]) -> Response:
    """N3: the county's deadlines of the year as edited, or (the other button) the default."""
    form = await desk.form()
    county_id = county_of(desk)
    body = {} if form.get("action") == "default" else {"deadlines": deadlines_of(form)}
    return await submit(
        desk,
        "notification",
        f"/v1/counties/{county_id}/calendars/{year}",
        body,
        form,
        done=f"/reminders?year={year}",
        again=lambda refused, filled: _reminders(desk, year, refused, filled),
    )
