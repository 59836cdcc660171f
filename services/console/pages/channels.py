"""Delivery channels and dead deliveries (N5): the county administrator adds a group robot,
an e-mail address, an SMS signature or a webhook for the county or one of its townships, and
retires one; a township's office does the same for its own township. Addresses and secrets
are never shown back (the service keeps them aside); a webhook's signing key is shown once.
Deliveries given up after their retries are listed for the administrator to send again. The
county's auditor reads the channels and every delivery (the dead ones among them, each with
why it failed, in Chinese), with no form."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.pages.accounts import county_of, submit
from services.console.web import Desk, Signed
from shared import zh

router = APIRouter()
PAGE = 50
KINDS = {
    "wecom": "企业微信群机器人",
    "dingtalk": "钉钉群机器人",
    "email": "电子邮件",
    "sms": "短信（提醒、逾期和退回修改的通知发到本人手机）",
    "webhook": "Webhook（其他系统）",
}
# what a channel may carry (the notification service's DELIVERABLE), as a person reads it
TYPES = {
    **{
        t: zh.label(t)
        for t in (
            "pledge_published",
            "item_closed",
            "review",
            "guidance_visit",
            "round_results",
            "rating_results",
            "selection_notice",
            "commendation",
            "bulletin",
        )
    },
    "selection_notice": "评选公示",
    "reminder": "到期提醒",
    "overdue": "逾期通知",
    "returned": "退回修改（仅短信，发给本人）",
}


STATUSES = {"pending": "待推送", "delivered": "已送达", "dead": "已停止重试"}


def read_only(desk: Desk) -> str | None:
    """The county of an auditor, who reads these pages without their forms; None for others."""
    return desk.session.org if desk.session.role == "auditor" and desk.session.org else None


async def place_of(desk: Desk) -> tuple[str, str | None]:
    """(county, township): the county administrator's county, or a township office's own
    township and its county; 403 for other posts."""
    if desk.session.role == "township_office" and desk.session.org:
        town = await desk.get("pledge", f"/v1/townships/{desk.session.org}")
        return str(town["county_id"]), desk.session.org
    return county_of(desk), None


@router.get("/channels")
async def channels(desk: Signed) -> Response:
    return await _channels(desk)


async def _channels(
    desk: Desk,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
    chosen: list[str] | None = None,
) -> Response:
    auditor = read_only(desk)
    county_id, township_id = (auditor, None) if auditor else await place_of(desk)
    listed = await desk.get(
        "notification", "/v1/channels", county_id=county_id, township_id=township_id
    )
    county = await desk.county(county_id)
    names = {t["township_id"]: t["name"] for t in county["townships"]}
    return desk.form_page(
        "channels.html",
        refused,
        filled,
        channels=listed["channels"],
        sms_account=listed.get("sms_account", False),
        places=[(township_id, names.get(township_id, township_id))]
        if township_id
        else [("", f"{county['name']}（全县）"), *names.items()],
        names=names,
        kinds=list(KINDS.items()),
        kind_names=KINDS,
        types=TYPES,
        chosen=chosen or [],
        readonly=auditor is not None,
    )


@router.post("/channels")
async def add(desk: Signed) -> Response:
    form = await desk.form()
    chosen = (await desk.request.form()).getlist("release_types")
    county_id, township_id = await place_of(desk)
    body: dict[str, Any] = {
        "county_id": county_id,
        "township_id": township_id or form.get("township_id") or None,
        "kind": form.get("kind", ""),
        "name": form.get("name", "").strip(),
        # an SMS signature as the label shows it, 【…】: the service takes what is inside
        "target": form.get("target", "").strip().strip("【】").strip(),
        "secret": form.get("secret", "").strip() or None,
        "release_types": [str(t) for t in chosen],
    }
    try:
        accepted = await desk.post("notification", "/v1/channels", body, form.get("key", ""))
    except Refused as refused:
        return await _channels(desk, refused, form, [str(t) for t in chosen])
    if accepted.get("secret"):  # a webhook's signing key: this once
        return desk.page("channel_secret.html", name=body["name"], secret=accepted["secret"])
    return desk.redirect("/channels")


@router.post("/channels/{channel_id}/retirement")
async def retire(channel_id: str, desk: Signed) -> Response:
    form = await desk.form()
    await place_of(desk)
    path = f"/v1/channels/{channel_id}/retirement"
    again = lambda refused, filled: _channels(desk, refused, filled)  # noqa: E731
    return await submit(desk, "notification", path, {}, form, done="/channels", again=again)


@router.get("/deliveries")
async def dead(
    desk: Signed,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    status: Literal["all", "pending", "delivered", "dead"] | None = None,
) -> Response:
    return await _dead(desk, page, status=status)


async def _dead(
    desk: Desk, page: int = 1, refused: Refused | None = None, *, status: str | None = None
) -> Response:
    """The administrator's dead deliveries, to send again; the auditor's deliveries of
    every status (all, unless one is chosen), read only."""
    auditor = read_only(desk)
    county_id = auditor or county_of(desk)
    shown = status or ("all" if auditor else "dead")
    found = await desk.get(
        "notification",
        "/v1/deliveries",
        county_id=county_id,
        status=None if shown == "all" else shown,
        limit=PAGE + 1,  # one more: is there a next page
        offset=(page - 1) * PAGE,
    )
    rows = found["deliveries"]
    listed = await desk.get("notification", "/v1/channels", county_id=county_id)
    return desk.form_page(
        "deliveries.html",
        refused,
        None,
        deliveries=rows[:PAGE],
        more=len(rows) > PAGE,
        page=page,
        channels={c["channel_id"]: c["name"] for c in listed["channels"]},
        types=TYPES,
        status=shown,
        statuses=STATUSES,
        readonly=auditor is not None,
    )


@router.post("/deliveries/{delivery_id}/redelivery")
async def redeliver(delivery_id: str, desk: Signed) -> Response:
    form = await desk.form()
    county_of(desk)
    path = f"/v1/deliveries/{delivery_id}/redelivery"
    again = lambda refused, _: _dead(desk, 1, refused)  # noqa: E731
    return await submit(desk, "notification", path, {}, form, done="/deliveries", again=again)
