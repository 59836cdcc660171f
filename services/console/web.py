"""What every page shares: the signed-in person, their session cookie, CSRF, rendering.

`signed_in` is the dependency of every page behind sign-in: it opens the session cookie,
refreshes an access token about to expire, and hands the page a `Desk` (the person, their
tokens, the services, the templates). A page answers with `desk.page(...)`, which re-seals
the cookie (the idle clock starts again) and renders the template with the layout's context.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from services.console.calls import Refused, Services
from services.console.session import SESSION_COOKIE, Sealer, Session, same_token
from services.console.settings import ConsoleSettings
from services.console.signin import Identity, needs_refresh
from shared import zh


def local_moment(value: datetime | str | None) -> str:
    """An instant (a service's ISO text or a datetime) as the county reads it; '' for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return zh.moment(value, COUNTY_TIME)


TEMPLATES = Environment(
    loader=PackageLoader("services.console", "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)

ROLES = {
    "county_admin": "县管理员",
    "township_committee": "镇党委",
    "township_office": "镇创先办",
    "branch_secretary": "支部书记",
    "member": "党员",
    "auditor": "审计员",
    "integration": "系统对接",
    "rater": "评议人",
}
STATUSES = {
    "none": "未起草",
    "drafting": "起草中",
    "proposed": "待审核",
    "under_review": "审核中",
    "returned": "已退回修改",
    "approved": "已审定",
    "published": "已公开",
    "pending": "待审核",
    "approve": "通过",
    "return": "退回",
    "open": "未销号",
    "closed": "已销号",
}
TEMPLATES.filters["role"] = lambda code: ROLES.get(str(code), str(code))
TEMPLATES.filters["zh"] = zh.label  # codes a person reads (grades, channels …), in Chinese
# every date and time a page shows is the county's (China Standard Time, Asia/Shanghai: no
# daylight saving since 1991); the services keep instants in UTC, so a report made at 00:50 on
# 8 December is shown on the 8th, not the 7th: `day` for the date, `moment` with its time
COUNTY_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")
TEMPLATES.filters["day"] = lambda value: zh.day(value, COUNTY_TIME)  # 2027年3月15日
TEMPLATES.filters["moment"] = local_moment  # 2027年3月15日 14:05
TEMPLATES.filters["failure"] = zh.failure  # a delivery's last failure, in Chinese
TEMPLATES.filters["period"] = zh.period  # 2027Q1 → 2027年第一季度
TEMPLATES.filters["status"] = lambda code: STATUSES.get(str(code), str(code))

# the pages each post sees in the menu: (path, label)
MENUS: dict[str, list[tuple[str, str]]] = {
    "member": [
        ("/", "待办"),
        ("/pledge", "我的承诺"),
        ("/journal", "纪实"),
        ("/my/rounds", "评议投票"),
        ("/my/grades", "我的评价"),
        ("/selections", "评选表彰"),
    ],
    "branch_secretary": [
        ("/", "待办"),
        ("/branch", "支部承诺"),
        ("/branch/journals", "党员纪实"),
        ("/reviews", "点评党员"),
        ("/rounds", "党员评议"),
        ("/ratings", "评星定级"),
        ("/selections", "评选推荐"),
    ],
    "township_committee": [
        ("/", "待办"),
        ("/review", "承诺审核"),
        ("/township", "定诺与台账"),
        ("/reviews", "领导点评"),
        ("/leaders", "联系支部"),
        ("/visits", "联系点指导"),
        ("/rounds", "评议"),
        ("/ratings", "评星定级"),
        ("/selections", "评选表彰"),
        ("/bulletins", "督查通报"),
    ],
    "township_office": [
        ("/", "待办"),
        ("/directory", "支部与党员"),
        ("/review", "承诺审核"),
        ("/township", "定诺与台账"),
        ("/reviews", "领导点评"),
        ("/leaders", "联系领导"),
        ("/visits", "联系点指导"),
        ("/rounds", "评议"),
        ("/checks", "满意度测评"),
        ("/ratings", "评星定级"),
        ("/selections", "评选表彰"),
        ("/bulletins", "督查通报"),
        ("/roster", "名册导入"),
        ("/channels", "推送渠道"),
    ],
    "county_admin": [
        ("/", "待办"),
        ("/county", "全县"),
        ("/setup", "乡镇与日历"),
        ("/reminders", "提醒日历"),
        ("/selections", "评选表彰"),
        ("/accounts", "账号与职务"),
        ("/channels", "推送渠道"),
        ("/deliveries", "失败推送"),
    ],
    "auditor": [
        ("/", "待办"),
        ("/county", "全县"),
        ("/rounds", "评议审计"),
        ("/audit/checks", "测评审计"),
        ("/audit", "检查点与导出"),
        ("/channels", "推送渠道"),
        ("/deliveries", "推送记录"),
    ],
}


@dataclass
class Console:
    """The app's state: settings, sign-in, services, cookie sealer."""

    settings: ConsoleSettings
    identity: Identity
    services: Services
    sealer: Sealer

    def cookie(self, response: Response, session: Session | None) -> None:
        if session is None:
            response.delete_cookie(SESSION_COOKIE, path="/")
            return
        response.set_cookie(
            SESSION_COOKIE,
            self.sealer.seal_session(session),
            httponly=True,
            samesite="lax",
            secure=self.settings.secure_cookies,
            path="/",
        )


SESSION_SCOPE = "gongkai.console.session"
# how long the menu's 待办 count is kept in the session: asked on every page it was a third
# of the console's calls to the services (`gongkai bench console`); 待办 itself always asks,
# and marking a notice read asks again
TODO_SECONDS = 30.0
TOWNSHIP_POSTS = ("township_committee", "township_office")


def form_groups(form: dict[str, str], prefix: str) -> dict[str, dict[str, str]]:
    """A form's fields named `<prefix>.<key>.<field>`, stripped, grouped by their key."""
    groups: dict[str, dict[str, str]] = {}
    for name, value in form.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == prefix:
            groups.setdefault(parts[1], {})[parts[2]] = value.strip()
    return groups


def form_rows(form: dict[str, str], prefix: str) -> list[dict[str, str]]:
    """A form's numbered rows (`<prefix>.<n>.<field>`), in their order on the form."""
    groups = form_groups(form, prefix)
    return [
        groups[key] for key in sorted((k for k in groups if k.isascii() and k.isdigit()), key=int)
    ]


class NotSignedIn(Exception):
    """The page needs a person; the handler sends the browser to sign in."""


@dataclass
class Desk:
    """One request's signed-in person."""

    console: Console
    session: Session
    request: Request
    todo_count: int = 0  # unread notices (待办), shown beside the menu's first entry

    @property
    def token(self) -> str:
        return self.session.access_token

    def org_of(self, posts: tuple[str, ...], refusal: str) -> str:
        """The organisation of the person's post, on a page for `posts`; another post, or one
        without an organisation, is refused with `refusal` (403)."""
        if self.session.role not in posts or not self.session.org:
            raise Refused(403, refusal)
        return self.session.org

    async def unread(self) -> int:
        """How many notices are unread in the person's inbox (0 when it cannot be read: the
        page is shown without its count rather than not at all)."""
        try:
            inbox = await self.console.services.call(
                "notification",
                "GET",
                "/v1/inbox",
                token=self.token,
                params={"unread": True, "limit": 1},
                wait_seconds=2.0,
            )
        except Refused:
            return 0
        return int(inbox.get("unread", 0)) if isinstance(inbox, dict) else 0

    def remember_todo(self, count: int) -> None:
        """The 待办 count, kept in the session for TODO_SECONDS (not asked on every page)."""
        self.todo_count = self.session.todo = count
        self.session.todo_at = time.time()

    @property
    def as_of(self) -> str | None:
        """The moment an auditor reads the records as of (the chosen day's end, local
        time); None: as they stand now. Only an auditor's session carries a day."""
        if self.session.role != "auditor" or not self.session.as_of:
            return None
        return f"{self.session.as_of}T23:59:59"

    async def get(self, service: str, path: str, **params: Any) -> Any:
        """A read with the person's token; for an auditor looking back, `as_of` their day
        (A3: every service's reads accept it), so every page shows the past, not only some."""
        if self.as_of is None:
            return await self.console.services.get(service, path, token=self.token, **params)
        params.setdefault("as_of", self.as_of)
        try:
            return await self.console.services.get(service, path, token=self.token, **params)
        except Refused as refused:
            if refused.status == 404:  # not recorded yet on that day
                day = zh.day(self.session.as_of)
                refused.message = f"{day}还没有这条记录（正在查看过去某日的记录）。"
            raise

    async def county(self, county_id: str) -> dict[str, Any]:
        """The county's record (its townships, calendars, categories). For an auditor looking
        back to a day before the county was recorded, the county as it was then: nothing
        yet (`before`: that day, for the page to say so), so a list reads empty, not 404."""
        try:
            found: dict[str, Any] = await self.get("pledge", f"/v1/counties/{county_id}")
        except Refused as refused:
            if refused.status != 404 or self.as_of is None:
                raise
            before = zh.day(self.session.as_of)
            empty: dict[str, Any] = {"townships": [], "calendars": {}, "categories": {}}
            return {"county_id": county_id, "name": "本县", "before": before, **empty}
        return found

    async def post(self, service: str, path: str, body: dict[str, Any], key: str) -> Any:
        return await self.console.services.post(service, path, token=self.token, body=body, key=key)

    async def upload(self, service: str, name: str, content: bytes, media_type: str) -> str:
        """An evidence file uploaded with the person's token; its SHA-256."""
        stored = await self.console.services.upload(
            service, token=self.token, name=name, content=content, media_type=media_type
        )
        return str(stored["sha256"])

    async def of_township(
        self, service: str, path: str, township_id: str, refusal: str
    ) -> dict[str, Any]:
        """A record of the person's own township (`township_id`), read from `service`; one of
        another township is refused with `refusal` (403)."""
        found: dict[str, Any] = await self.get(service, path)
        if found.get("township_id") != township_id:
            raise Refused(403, refusal)
        return found

    async def evidence(self, service: str) -> list[dict[str, str]]:
        """The form's evidence files (a phone's photos, scanned letters), each uploaded to
        `service` first, as the write that attaches them names them: SHA-256 and file name."""
        return [
            {"sha256": await self.upload(service, name, content, media_type), "name": name}
            for name, content, media_type in await self.files()
            if content
        ]

    async def files(self) -> list[tuple[str, bytes, str]]:
        """The files the (already CSRF-checked) form carries: name, bytes, declared type."""
        posted = await self.request.form()
        found = []
        for _, value in posted.multi_items():
            if not isinstance(value, str) and value.filename:
                found.append((value.filename, await value.read(), value.content_type or ""))
        return found

    async def form(self) -> dict[str, str]:
        """The posted form, after its CSRF token is checked (a mismatch is refused)."""
        posted = await self.request.form()
        values = {k: v for k, v in posted.multi_items() if isinstance(v, str)}
        if not same_token(self.session.csrf, values.get("csrf")):
            raise Refused(403, "页面已过期或来源不明，请刷新页面后重新提交。")
        return values

    def form_page(
        self,
        template: str,
        refused: Refused | None,
        filled: dict[str, str] | None,
        **context: Any,
    ) -> HTMLResponse:
        """A page of a form: after a refusal (its status), shown again with what was typed
        (`filled`; none: empty) and the service's hints beside the fields."""
        return self.page(
            template,
            status_code=refused.status if refused else 200,
            refused=refused,
            filled=filled or {},
            **context,
        )

    def page(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = TEMPLATES.get_template(template).render(
            me=self.session,
            menu=MENUS.get(self.session.role, [("/", "待办")]),
            path=self.request.url.path,
            here=self.request.url.path
            + (f"?{self.request.url.query}" if self.request.url.query else ""),
            csrf=self.session.csrf,
            todo_count=self.todo_count,
            new_key=lambda: secrets.token_urlsafe(16),
            new_id=lambda prefix: f"{prefix}-{secrets.token_hex(6)}",  # a record a form creates
            **context,
        )
        response = HTMLResponse(html, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        self.console.cookie(response, self.session)
        return response

    def redirect(self, to: str) -> RedirectResponse:
        response = RedirectResponse(to, status_code=303)
        self.console.cookie(response, self.session)
        return response


async def signed_in(request: Request) -> Desk:
    console: Console = request.app.state.console
    session = console.sealer.session(
        request.cookies.get(SESSION_COOKIE), console.settings.idle_minutes * 60
    )
    if session is None:
        raise NotSignedIn()
    if needs_refresh(session):
        fresh = await console.identity.refresh(session)
        if fresh is None:
            raise NotSignedIn()
        session = fresh
    session.seen = time.time()
    # re-sealed into every answer (app.py); the request's state is shared with middleware
    request.scope.setdefault("state", {})[SESSION_SCOPE] = session
    desk = Desk(console, session, request)
    if request.method == "GET":  # 待办's count on every page's menu
        if time.time() - session.todo_at > TODO_SECONDS:
            desk.remember_todo(await desk.unread())
        desk.todo_count = session.todo
    return desk


def public_page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(me=None, menu=[], path="", **context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


# the dependency of every page behind sign-in, as pages write it: `desk: Signed`
Signed = Annotated[Desk, Depends(signed_in)]
