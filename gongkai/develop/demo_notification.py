"""The demo county's calendars, delivery channels and a supervision bulletin (N3–N5), loaded
through the pledge and notification services' HTTP APIs after the other demos, so every post
finds something on its pages: the county's pledge calendar; a reminder calendar that reminds
a month ahead, so the deadlines of the coming weeks are already in the people's 待办 (the
notification service issues them on its next pass); each township's SMS channel for
reminders and overdue notices with the branch secretaries' phones registered (the demo
machine has no SMS account, so those messages are given up at once: the county
administrator's 失败推送 has something to redeliver); and each township's first bulletin."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import httpx

from gongkai.develop.demo import COUNTY, DemoApi
from shared.auth import LocalSigningKey

AHEAD = 31  # days: the demo county reminds a month before each deadline (a month's end too)
WAIT_SECONDS = 60.0


def notification_demo_loaded(notification_url: str) -> bool:
    """Whether a bulletin was issued (the demo issues one per township; the public feed)."""
    since = 0
    for _ in range(50):
        response = httpx.get(
            f"{notification_url}/v1/releases", params={"since": since, "limit": 500}, timeout=30
        )
        if response.status_code != 200:
            return False
        page = response.json()
        if any(r["type"] == "bulletin" for r in page["releases"]):
            return True
        if not page["more"]:
            return False
        since = page["next_since"]
    return False


def _patiently(api: DemoApi, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """A command that needs the service's copy of the directory (from the pledge service's
    events): tried again until the copy has what it names."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            return api.post(path, body, headers)
        except RuntimeError as error:
            if ": 404 " not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def load_notification_demo(
    pledge_url: str, notification_url: str, key: LocalSigningKey, today: date
) -> dict[str, int]:
    pledge, api = DemoApi(pledge_url, key), DemoApi(notification_url, key)
    county_id = COUNTY[0]
    admin = api.auth("county_admin", county_id)
    counts = {"calendars": 0, "channels": 0, "phones": 0, "bulletins": 0}
    for year in (today.year, today.year + 1):  # this year's drafting by March 15, and next
        pledge.post(
            f"/v1/counties/{county_id}/calendars",
            {"year": year, "drafting_deadline": f"{year}-03-15"},
            admin,
        )
        counts["calendars"] += 1
    # the channels and phones before the reminders that go by them
    for summary in pledge.get(f"/v1/counties/{county_id}").json()["townships"]:
        township = pledge.get(f"/v1/townships/{summary['township_id']}").json()
        _township(api, pledge, township, counts)
    calendar = api.get(f"/v1/counties/{county_id}/calendars/{today.year}").json()
    soon = today + timedelta(days=AHEAD)
    deadlines = [
        {
            **{k: d[k] for k in ("kind", "period", "title", "due_on")},
            "remind_days_before": (
                AHEAD
                if today < date.fromisoformat(d["due_on"]) <= soon
                else d["remind_days_before"]
            ),
        }
        for d in calendar["deadlines"]
    ]
    _patiently(
        api, f"/v1/counties/{county_id}/calendars/{today.year}", {"deadlines": deadlines}, admin
    )
    counts["calendars"] += 1
    return counts


def _township(
    api: DemoApi, pledge: DemoApi, township: dict[str, Any], counts: dict[str, int]
) -> None:
    township_id = township["township_id"]
    office = api.auth("township_office", township_id)
    _patiently(
        api,
        "/v1/channels",
        {
            "county_id": COUNTY[0],
            "township_id": township_id,
            "kind": "sms",
            "name": f"{township['name']}短信提醒",
            "target": "民勤县委组织部",  # the approved signature, 【…】 in the message
            "release_types": ["reminder", "overdue"],
        },
        office,
    )
    counts["channels"] += 1
    for summary in township["branches"]:
        branch = pledge.get(f"/v1/branches/{summary['branch_id']}").json()
        if branch["secretary_id"]:
            phone = f"1390000{counts['phones'] + 1:04d}"
            _patiently(api, f"/v1/people/{branch['secretary_id']}/phone", {"phone": phone}, office)
            counts["phones"] += 1
    _patiently(
        api,
        f"/v1/townships/{township_id}/bulletins",
        {
            "title": f"{township['name']}承诺践诺推进情况督查通报",
            "note": "请各支部对照通报补齐短板, 按期公开承诺进展。",
        },
        office,
    )
    counts["bulletins"] += 1
