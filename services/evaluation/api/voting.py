"""Voting from a phone (issue 17): invitations for organisers (`/v1/…/invitations`) and the
public voting page (`/vote`), which a reverse proxy puts on the public host.

The page's forms post the code in the body, never in a URL (the server's logs name routes and
statuses, never bodies); a link carries it in the fragment. The page needs no account and no
cookie: the code is the credential, so a forged cross-site form can vote only with a code its
author already holds, and none is stored in the idempotency table (the invitation routes take
no Idempotency-Key for that reason: a repeated request issues nothing new, and a lost answer
is made good by reissuing)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.evaluation.documents.voting import (
    HEADERS,
    SHEET_HEADERS,
    page,
    slips_sheet,
    vote_link,
)
from services.evaluation.voting import commands as c
from services.evaluation.voting import handlers as h
from services.evaluation.voting import queries as q
from services.evaluation.voting.events import Scope
from services.evaluation.voting.schemas import InvitationsIssued, InvitationTurnout
from shared.auth import PUBLIC
from shared.errors import GongkaiError, InvalidInput, InvalidState
from shared.http import IdempotencyDep, PathId, Reader, SignedIn, run
from shared.sms import SmsError, SmsGateway, SmsSettings, gateway_from_settings

router = APIRouter(tags=["voting"])
log = structlog.get_logger()
SCOPES = {"rounds": Scope.ROUND, "satisfaction-checks": Scope.CHECK}
SMS_AT_ONCE = 8  # invitations sent by SMS at the same time


def _base_url(request: Request) -> str:
    configured = request.app.state.runtime.settings.public_base_url
    return str(configured or request.base_url).rstrip("/")


def _gateway(request: Request) -> SmsGateway | None:
    """The county's SMS channel (shared/sms.py, `GONGKAI_SMS_*`), made on first use; None
    where the county has none. A test or the runtime may put one in `components["sms"]`."""
    components = request.app.state.runtime.components
    if "sms" not in components:
        components["sms"] = gateway_from_settings(SmsSettings())
    gateway: SmsGateway | None = components["sms"]
    return gateway


async def _send(request: Request, answer: dict[str, Any]) -> None:
    """Each slip marked for SMS to its phone; one the channel refuses is marked `sms_failed`
    (its code is still in the answer, to hand over), never an error that would lose the
    answer's other codes, committed already. The refusals, rater id -> the provider's code,
    in `answer["refused"]` (for `_record_refused`)."""
    gateway = _gateway(request)
    if gateway is None:
        return
    view, base = answer["view"], _base_url(request)
    # several at a time: a sheet of many raters must not wait for each message in turn
    # (a provider's second or a timeout each) past the console's wait for its codes
    turns = asyncio.Semaphore(SMS_AT_ONCE)

    async def one(slip: dict[str, Any], gateway: SmsGateway = gateway) -> None:
        async with turns:
            try:
                await h.send_invitation(gateway, slip["phone"], view, base, slip["code"])
            except SmsError as error:  # shared/sms.py logged it, the phone masked
                log.warning("invitation_sms_failed", scope_id=answer["id"], reason=error.code)
                slip["by_sms"], slip["sms_failed"] = False, True
                answer.setdefault("refused", {})[slip["rater_id"]] = error.code

    await asyncio.gather(
        *(one(s) for s in answer["invitations"] if s.get("by_sms") and s.get("phone"))
    )


async def _record_refused(
    request: Request, who: Any, scope: Scope, scope_id: str, answer: dict[str, Any]
) -> None:
    """The texts the provider refused, appended (`InvitationTextRefused`) so that turnout
    counts only those it accepted. A failure here is logged, never raised: the answer holds
    codes committed already, shown once."""
    refused: dict[str, str] = answer.get("refused") or {}
    if not refused:
        return
    try:
        await run(
            request,
            who,
            None,
            lambda uow: h.record_refused_texts(uow, scope, scope_id, refused, who),
        )
    except Exception as error:
        log.error("invitation_sms_refusal_not_recorded", scope_id=scope_id, error=repr(error))


def _shown(request: Request, answer: dict[str, Any]) -> dict[str, Any]:
    """The answer without the phone numbers the SMS needed; each code with its link."""
    base = _base_url(request)
    slips = [
        {**{k: v for k, v in s.items() if k != "phone"}, "link": vote_link(base, s["code"])}
        for s in answer["invitations"]
    ]
    return {"id": answer["id"], "events": answer["events"], "invitations": slips}


async def _issue(
    request: Request, who: Any, scope: Scope, scope_id: str, cmd: c.IssueInvitations
) -> dict[str, Any]:
    sms = _gateway(request) is not None
    answer: dict[str, Any] = await run(
        request, who, None, lambda uow: h.issue_invitations(uow, scope, scope_id, cmd, who, sms)
    )
    await _send(request, answer)
    await _record_refused(request, who, scope, scope_id, answer)
    return answer


# a path on the same site (never another host: no scheme, no `//`)
BackLink = Annotated[
    str | None, Query(max_length=200, pattern=r"^/([A-Za-z0-9_.-][A-Za-z0-9/_.?=&%-]*)?$")
]

for _path, _scope in SCOPES.items():
    _what = "round" if _scope is Scope.ROUND else "satisfaction check"
    _op = "Round" if _scope is Scope.ROUND else "Check"

    def _routes(path: str = _path, scope: Scope = _scope, what: str = _what, op: str = _op) -> None:
        @router.post(
            f"/v1/{path}/{{scope_id}}/invitations",
            status_code=201,
            response_model=InvitationsIssued,
            operation_id=f"issue{op}Invitations",
        )
        async def issue(
            scope_id: PathId, cmd: c.IssueInvitations, request: Request, who: SignedIn
        ) -> Any:
            """Invite the raters not invited yet (or those listed): each code is in this answer
            only, with its link (the code in the fragment); only its hash is kept."""
            return _shown(request, await _issue(request, who, scope, scope_id, cmd))

        @router.post(
            f"/v1/{path}/{{scope_id}}/invitation-sheet",
            response_class=HTMLResponse,
            operation_id=f"print{op}InvitationSheet",
        )
        async def sheet(
            scope_id: PathId,
            cmd: c.IssueInvitations,
            request: Request,
            who: SignedIn,
            back: BackLink = None,
        ) -> HTMLResponse:
            """As `issue…Invitations`, answered as an A4 sheet of cut-out slips to print
            (township, round, code, QR code, how to vote; a named rater's masked name).
            `back`: a path on the caller's own site the sheet links back to (返回, not
            printed), where the organiser came from (the console's round or check)."""
            answer = await _issue(request, who, scope, scope_id, cmd)
            html = slips_sheet(answer["view"], answer["invitations"], _base_url(request), back=back)
            return HTMLResponse(html, headers=SHEET_HEADERS)

        @router.post(
            f"/v1/{path}/{{scope_id}}/invitations/{{rater_id}}/reissue",
            status_code=201,
            response_model=InvitationsIssued,
            operation_id=f"reissue{op}Invitation",
        )
        async def reissue(
            scope_id: PathId,
            rater_id: PathId,
            cmd: c.ReissueInvitation,
            request: Request,
            who: SignedIn,
            idem: IdempotencyDep,
        ) -> Any:
            """A new code for a lost invitation; the old code no longer votes. Repeated with
            the same `Idempotency-Key` (a double click): 409, nothing appended or sent (the
            code was in the first answer only, and is never kept to answer again)."""
            sms = _gateway(request) is not None
            answer: dict[str, Any] = await run(
                request,
                who,
                idem,
                lambda uow: h.reissue_invitation(uow, scope, scope_id, rater_id, cmd, who, sms),
                withheld=InvalidState(h.REISSUED, rater_id=rater_id),
            )
            await _send(request, answer)
            await _record_refused(request, who, scope, scope_id, answer)
            return _shown(request, answer)

        @router.get(
            f"/v1/{path}/{{scope_id}}/invitations",
            response_model=InvitationTurnout,
            operation_id=f"get{op}InvitationTurnout",
        )
        async def turnout(scope_id: PathId, conn: Reader, request: Request) -> Any:
            """Turnout of the invitations: counts only, never who chose what; and whether
            invitations can go by SMS (the county has an SMS channel)."""
            counts = await q.turnout(conn, scope=scope.value, scope_id=scope_id)
            return counts | {"sms": _gateway(request) is not None}

    _routes()


# --- the public voting page -----------------------------------------------------------------


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=HEADERS)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _public(request: Request, work: Any) -> Any:
    return await run(request, PUBLIC, None, work)


async def _checked(request: Request, work: Any) -> Any:
    """Run a step of the page; a wrong code is counted against guessing, in its own
    transaction (the step's appended nothing)."""
    try:
        return await _public(request, work)
    except h.WrongCode:
        await _public(request, lambda uow: h.record_wrong_code(uow, _address(request)))
        raise


def _refused(error: GongkaiError) -> HTMLResponse:
    """The code form again, with the reason in Chinese."""
    response = _html(page("enter", error=error.detail, view=None), error.status)
    if "retry_after" in error.extra:
        response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response


@router.get("/vote", response_class=HTMLResponse, include_in_schema=False)
async def vote_page() -> HTMLResponse:
    """Type the code in; a link's code (in the fragment) is posted by the page's script."""
    return _html(page("enter", view=None))


@router.post("/vote", response_class=HTMLResponse, include_in_schema=False)
async def open_ballot(request: Request) -> HTMLResponse:
    form = await _form(request)
    try:
        cmd = c.OpenBallot(code=form.get("code", "") or " ")
        view = await _checked(request, lambda uow: h.open_ballot(uow, cmd, _address(request)))
    except GongkaiError as error:
        return _refused(error)
    except ValueError:
        return _refused(InvalidInput("请输入评议邀请码"))
    return _html(page("ballot", view=view, code=view["code"], chosen={}))


def _chosen(form: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix("grade."): v for k, v in form.items() if k.startswith("grade.")}


async def _view(request: Request, form: dict[str, str]) -> dict[str, Any]:
    cmd = c.OpenBallot(code=form.get("code", "") or " ")
    view: dict[str, Any] = await _checked(
        request, lambda uow: h.open_ballot(uow, cmd, _address(request))
    )
    if view["scope_id"] != form.get("scope_id"):
        raise InvalidState("这个邀请码不是本次评议的，请使用本次评议的邀请码")
    return view


@router.post("/vote/review", response_class=HTMLResponse, include_in_schema=False)
@router.post("/vote/back", response_class=HTMLResponse, include_in_schema=False)
async def review(request: Request) -> HTMLResponse:
    """The review screen (or, from it, back to the ballot with the choices kept)."""
    form = await _form(request)
    try:
        view = await _view(request, form)
    except GongkaiError as error:
        return _refused(error)
    except ValueError:
        return _refused(InvalidInput("请输入评议邀请码"))
    chosen = _chosen(form)
    labels = {g["grade"]: g["label"] for g in view["grades"]}
    missing = [s["name"] for s in view["subjects"] if chosen.get(s["subject_id"]) not in labels]
    if request.url.path.endswith("/back") or missing:
        reason = f"还没有评价：{'、'.join(missing)}" if missing else None
        status = 422 if missing else 200
        return _html(
            page("ballot", view=view, code=view["code"], chosen=chosen, error=reason), status
        )
    return _html(page("review", view=view, code=view["code"], chosen=chosen, labels=labels))


@router.post("/vote/ballot", response_class=HTMLResponse, include_in_schema=False)
async def submit(request: Request) -> HTMLResponse:
    """The ballot: then "已提交" and nothing else (no receipt that could prove a choice)."""
    form = await _form(request)
    batch = request.app.state.runtime.settings.urn_batch
    try:
        cmd = c.VoteWithCode(
            code=form.get("code", "") or " ",
            scope_id=form.get("scope_id", ""),
            grades=_chosen(form),
        )
        await _checked(request, lambda uow: h.vote(uow, cmd, _address(request), batch))
    except GongkaiError as error:
        return _refused(error)
    except ValueError:
        return _refused(InvalidInput("选票不完整，请重新打开评议页面"))
    return _html(page("done", view=None))
